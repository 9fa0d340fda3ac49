"""The migrations build exactly the tables the code uses, on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest

from backend import db
from backend.settings import load_settings


@pytest.mark.parametrize("engine_name", ["sqlite", "postgres"])
async def test_every_table_matches_its_migrations(request, engine_name):
    url = request.getfixturevalue(
        "sqlite_url" if engine_name == "sqlite" else "pg_url"
    )  # both ran `python -m backend migrate`
    settings = load_settings(env={}, database_url=url)
    engine = db.make_engine(settings)
    db.bind(engine)
    await db.start(engine, settings)
    try:
        for table in db.table_classes():
            name = table._meta.tablename
            if engine_name == "sqlite":
                rows = await engine.run_querystring(
                    __import__("piccolo.querystring", fromlist=["QueryString"]).QueryString(
                        f"PRAGMA table_info({name})"
                    )
                )
                columns = {row["name"] for row in rows}
            else:
                rows = await table.raw("SELECT column_name FROM information_schema.columns WHERE table_name = {}", name)
                columns = {row["column_name"] for row in rows}
            assert columns == {c._meta.db_column_name for c in table._meta.columns}, name
    finally:
        await db.stop(engine)
