import os

from piccolo.conf.apps import AppConfig

from backend.identity.tables import TABLES

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="identity",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "migrations"),
    table_classes=list(TABLES),
    migration_dependencies=[],
    commands=[],
)
