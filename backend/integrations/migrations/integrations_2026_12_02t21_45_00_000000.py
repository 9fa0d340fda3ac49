from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar

ID = "2026-12-02T21:45:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "integration level becomes a multi-select (longer column)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="integrations", description=DESCRIPTION)

    manager.alter_column(
        table_class_name="Integration",
        tablename="integration",
        column_name="level",
        db_column_name="level",
        params={"length": 100},
        old_params={"length": 20},
        column_class=Varchar,
        old_column_class=Varchar,
        schema=None,
    )

    return manager
