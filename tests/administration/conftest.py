"""Administration fixtures: the platform on PostgreSQL and SQLite (virtual clock), two catalog
versions, and an HTTP client with sandbox logins."""

from __future__ import annotations

import httpx
import pytest

from backend import db
from backend.lib.clock import VirtualClock
from backend.settings import load_settings
from tests.administration.support import clean, restore_catalogs, serve, two_catalog_versions
from tests.cases.conftest import clean_database

START_MS = 1_795_658_400_000  # 2026-11-26 10:00 CST


@pytest.fixture
def catalogs(tmp_path, monkeypatch):
    """(shipped, newer): two valid catalog versions; the newer is the loader's default."""
    yield two_catalog_versions(tmp_path, monkeypatch)
    monkeypatch.undo()
    restore_catalogs()


def _settings(url, tmp_path):
    return load_settings(
        env={},
        database_url=url,
        data_dir=str(tmp_path),
        test_env=True,
        connector_base_url="http://127.0.0.1:9/sim",
        log_format="text",
        log_level="WARNING",
    )


@pytest.fixture(params=["postgres", "sqlite"])
def db_url(request) -> str:
    return request.getfixturevalue("pg_url" if request.param == "postgres" else "sqlite_url")


@pytest.fixture
async def platform(db_url, tmp_path):
    from backend.app import build_platform

    settings = _settings(db_url, tmp_path)
    platform = build_platform(settings, clock=VirtualClock(start_ms=START_MS))
    db.bind(platform.engine)
    await db.start(platform.engine, settings)
    await clean_database()
    await clean(platform)
    yield platform
    for connector in platform.connectors.values():
        await connector.aclose()
    await db.stop(platform.engine)


class Api:
    """An HTTP client on the app with a bearer token per sandbox persona."""

    def __init__(self, client) -> None:
        self.client = client
        self.tokens: dict[str, str] = {}

    async def login(self, persona: str) -> dict[str, str]:
        if persona not in self.tokens:
            answer = await self.client.post("/sandbox/token", json={"persona": persona})
            assert answer.status_code == 200, answer.text
            self.tokens[persona] = answer.json()["access_token"]
        return {"Authorization": f"Bearer {self.tokens[persona]}"}

    async def call(self, persona: str | None, method: str, path: str, **kwargs) -> httpx.Response:
        headers = await self.login(persona) if persona else {}
        return await self.client.request(method, path, headers=headers, **kwargs)


@pytest.fixture
async def api(db_url, tmp_path):
    """The app over HTTP (administration wired), empty tables, logins through ``POST /sandbox/token``."""
    async with serve(db_url, tmp_path) as (app, base):
        await clean_database()
        await clean(app.state.platform)
        async with httpx.AsyncClient(base_url=base) as client:
            yield Api(client)
