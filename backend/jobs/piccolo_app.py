import os

from piccolo.conf.apps import AppConfig

from backend.jobs.tables import Job

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="jobs",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "migrations"),
    table_classes=[Job],
    migration_dependencies=[],
    commands=[],
)
