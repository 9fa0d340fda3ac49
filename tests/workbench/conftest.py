"""Back-office fixtures: the case platform (PostgreSQL and SQLite, virtual clock) plus the back-office wiring."""

from __future__ import annotations

import pytest

from backend import db
from backend.lib.clock import VirtualClock
from backend.settings import load_settings
from tests.cases.conftest import clean_database
from tests.workbench.support import install

# 2026-11-26 10:00 CST, a Thursday
START_MS = 1_795_658_400_000


@pytest.fixture
def start_ms() -> int:
    return START_MS


@pytest.fixture(params=["postgres", "sqlite"])
async def platform(request, tmp_path, monkeypatch, start_ms):
    from backend.app import build_platform

    url = request.getfixturevalue("pg_url" if request.param == "postgres" else "sqlite_url")
    settings = load_settings(
        env={}, database_url=url, data_dir=str(tmp_path), test_env=True, connector_base_url="http://127.0.0.1:9/sim"
    )
    platform = build_platform(settings, clock=VirtualClock(start_ms=start_ms))
    db.bind(platform.engine)
    await db.start(platform.engine, settings)
    await clean_database()
    await install(platform, monkeypatch)
    yield platform
    for connector in platform.connectors.values():
        await connector.aclose()
    await db.stop(platform.engine)
