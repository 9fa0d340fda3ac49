"""The database layer's transactions when the database goes away under them (a restart, a failover).

Piccolo's transaction gave its connection back to the pool, and forgot it as the task's current
one, only when COMMIT or ROLLBACK succeeded. A connection lost mid-transaction therefore stayed
checked out for good, and the task's next query ran on the dead connection. After a PostgreSQL
restart a worker whose jobs were in transactions had leaked its whole pool and waited forever
for a connection (tests/faults/test_database_restart.py caught it on CI).
"""

from __future__ import annotations

import asyncio

import asyncpg
import pytest

from backend import db
from backend.jobs.tables import Job
from backend.settings import load_settings

pytestmark = pytest.mark.postgres


class Failed(Exception):
    pass


@pytest.mark.parametrize("ending", ["commit", "rollback"])
async def test_a_transaction_whose_connection_dies_gives_its_place_in_the_pool_back(pg_url, ending):
    settings = load_settings(env={}, database_url=pg_url, db_pool_size=1)  # one leak and the pool is empty
    engine = db.make_engine(settings)
    db.bind(engine)
    await db.start(engine, settings)
    admin = await asyncpg.connect(pg_url)
    try:
        for _ in range(3):
            with pytest.raises((Failed, asyncpg.PostgresError, asyncpg.InterfaceError, OSError)):
                async with db.writing_transaction(engine):
                    pid = (await db.raw(Job, "SELECT pg_backend_pid() AS pid"))[0]["pid"]
                    await admin.execute("SELECT pg_terminate_backend($1)", pid)  # what a restart does to it
                    await asyncio.sleep(0.1)
                    if ending == "rollback":
                        raise Failed("the work failed, so the transaction is rolled back")
            assert engine.current_transaction.get() is None
            # the next query, outside any transaction, gets a live connection from the pool of one
            assert await asyncio.wait_for(db.raw(Job, "SELECT 1 AS one"), 10) == [{"one": 1}]
    finally:
        await admin.close()
        await db.stop(engine)
