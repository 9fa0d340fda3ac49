import os

from piccolo.conf.apps import AppConfig

from backend.administration.tables import CatalogPublication, HolidayImport, StaffMember

CURRENT_DIRECTORY = os.path.dirname(os.path.abspath(__file__))

APP_CONFIG = AppConfig(
    app_name="administration",
    migrations_folder_path=os.path.join(CURRENT_DIRECTORY, "migrations"),
    table_classes=[CatalogPublication, StaffMember, HolidayImport],
    migration_dependencies=[],
    commands=[],
)
