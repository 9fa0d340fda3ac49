"""测试问题反馈 fixtures: the app over HTTP on SQLite (embedded) and PostgreSQL, with sandbox logins."""

from __future__ import annotations

import httpx
import pytest

from backend.feedback.piccolo_app import APP_CONFIG
from tests.administration.conftest import Api, catalogs  # noqa: F401 - the shared fixture
from tests.administration.support import clean, serve
from tests.cases.conftest import clean_database


@pytest.fixture(params=["sqlite", "postgres"])
def db_url(request) -> str:
    return request.getfixturevalue("pg_url" if request.param == "postgres" else "sqlite_url")


@pytest.fixture
async def api(db_url, tmp_path):
    """The app over HTTP with empty feedback tables; ``api.call(persona, method, path)``."""
    async with serve(db_url, tmp_path) as (app, base):
        await clean_database()
        for table in APP_CONFIG.table_classes:
            await table.delete(force=True)
        async with httpx.AsyncClient(base_url=base) as client:
            yield Api(client)


@pytest.fixture
async def admin_api(db_url, tmp_path):
    """Like ``api``, with the administration tables emptied too (catalog publications)."""
    async with serve(db_url, tmp_path) as (app, base):
        await clean_database()
        await clean(app.state.platform)
        for table in APP_CONFIG.table_classes:
            await table.delete(force=True)
        async with httpx.AsyncClient(base_url=base) as client:
            yield Api(client)
