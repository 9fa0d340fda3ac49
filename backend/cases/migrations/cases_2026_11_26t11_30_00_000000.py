from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T11:30:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "one timeline event per (case, seq)"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="cases", description=DESCRIPTION)

    async def unique_timeline_positions():
        # Two writers can never fork a case's hash chain.
        await engine_finder().run_ddl(
            "CREATE UNIQUE INDEX IF NOT EXISTS case_event_case_seq ON case_event (case_file, seq)"
        )

    async def drop_unique_timeline_positions():
        await engine_finder().run_ddl("DROP INDEX IF EXISTS case_event_case_seq")

    manager.add_raw(unique_timeline_positions)
    manager.add_raw_backwards(drop_unique_timeline_positions)
    return manager
