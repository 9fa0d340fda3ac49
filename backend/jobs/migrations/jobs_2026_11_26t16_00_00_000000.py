from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.engine import engine_finder

ID = "2026-11-26T16:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "partial indexes for claiming due jobs"

# The table keeps every finished job and every job due later (polls in five minutes, draft
# expiries in weeks); claims and the next-due query look only at pending and running ones.
INDEXES = {
    "job_pending_run_at": "ON job (run_at) WHERE status = 'pending'",
    "job_running_locked_until": "ON job (locked_until) WHERE status = 'running'",
}


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="jobs", description=DESCRIPTION)

    async def create():
        for name, definition in INDEXES.items():
            await engine_finder().run_ddl(f"CREATE INDEX IF NOT EXISTS {name} {definition}")

    async def drop():
        for name in INDEXES:
            await engine_finder().run_ddl(f"DROP INDEX IF EXISTS {name}")

    manager.add_raw(create)
    manager.add_raw_backwards(drop)
    return manager
