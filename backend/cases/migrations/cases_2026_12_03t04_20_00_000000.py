from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Varchar
from piccolo.columns.indexes import IndexMethod

ID = "2026-12-03T04:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "the timeline's hash function per event (sha256 for every event written before)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    manager.add_column(
        table_class_name="CaseEvent",
        tablename="case_event",
        column_name="hash_alg",
        db_column_name="hash_alg",
        column_class_name="Varchar",
        column_class=Varchar,
        params={
            "length": 16,
            "default": "sha256",
            "null": False,
            "primary_key": False,
            "unique": False,
            "index": False,
            "index_method": IndexMethod.btree,
            "choices": None,
            "db_column_name": None,
            "secret": False,
        },
        schema=None,
    )

    return manager
