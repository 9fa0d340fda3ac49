import os

from piccolo.conf.apps import AppConfig

from backend.workbench.tables import AssistedApplication, ConnectorMode, StaffAction

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="workbench",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "migrations"),
    table_classes=[ConnectorMode, StaffAction, AssistedApplication],
    migration_dependencies=[],
    commands=[],
)
