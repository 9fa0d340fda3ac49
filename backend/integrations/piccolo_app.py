import os

from piccolo.conf.apps import AppConfig

from backend.integrations.tables import Contact, Integration

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="integrations",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "migrations"),
    table_classes=[Integration, Contact],
    migration_dependencies=[],
    commands=[],
)
