import os

from piccolo.conf.apps import AppConfig

from backend.links.tables import ShortLink

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="links",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "migrations"),
    table_classes=[ShortLink],
    migration_dependencies=[],
    commands=[],
)
