"""Shared fixtures: throwaway PostgreSQL and Redis (started only when a test asks), the app
in production mode on them, and the platform running in embedded mode as a live server.

Set TEST_DATABASE_URL / TEST_REDIS_URL to use servers of your own instead.
"""

from __future__ import annotations

import os
import sys
import tempfile
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parent
sys.path.insert(0, str(ROOT))

from tests.servers import PlatformProcess, PostgresServer, RedisServer, requires_server, run_migrations  # noqa: E402

# Markers follow from what a test uses, so they cannot drift from the fixtures:
#   postgres / redis  the throwaway servers (directly, or as the "postgres" variant of a parametrized fixture)
#   slow              a server on a socket (a live platform, a simulator under uvicorn), child
#                     processes or a browser (e2e/ adds "e2e" itself)
# `make unit` runs what has none of them; a test that starts a server without its marker fails
# there (tests.servers.requires_server), so a wrong marker is found, not silently skipped.
_MARKERS_BY_FIXTURE = {
    "postgres_server": ("postgres",),
    "pg_url": ("postgres",),
    "production_settings": ("postgres", "redis"),
    "client": ("postgres", "redis"),
    "redis_server": ("redis",),
    "redis_url": ("redis",),
    "own_redis": ("redis", "slow"),
    "embedded_server": ("slow",),
    "live": ("slow",),
    "live_server": ("slow",),
    "world": ("slow",),
    # the connector suites' simulators and receivers, served over real HTTP (tests/connectors)
    "env": ("slow",),
    "broken_url": ("slow",),
    "push_env": ("slow",),
    "registration_urls": ("slow",),
}
_SLOW_FOLDERS = ("tests/faults/", "e2e/")


# `make test` runs on several xdist workers, which take tests in collection order: the longest
# files go first so they start at once and the short tests fill in behind them (from
# `pytest --durations=0` on the 2-core CI machine; a file missing here only starts later).
_LONGEST_FIRST = (
    "tests/faults/test_process_kills.py",
    "e2e/pwa/test_journey.py",
    "tests/faults/test_database_restart.py",
    "e2e/pwa/test_case_page.py",
    "e2e/kiosk/test_kiosk.py",
    "tests/faults/test_restore_drill.py",
    "e2e/test_start_pages.py",
    "tests/production/test_topology.py",
    "e2e/staff/test_backoffice_pages.py",
    "tests/cases/test_flow_embedded.py",
    "e2e/pwa/test_case_overview.py",
    "tests/security/test_openapi_fuzz.py",
)


def _longest_first(item) -> int:
    path = item.nodeid.split("::")[0].replace("\\", "/")
    return _LONGEST_FIRST.index(path) if path in _LONGEST_FIRST else len(_LONGEST_FIRST)


def _keeps_its_module_together(item) -> bool:
    """A test whose fixtures live for its module (a deployment, a live platform): its module's tests
    share one worker (``--dist loadgroup``), so the fixture is built once, not once per worker."""
    definitions = getattr(getattr(item, "_fixtureinfo", None), "name2fixturedefs", {})
    return any(d.scope in ("module", "class") for defs in definitions.values() for d in defs)


def pytest_collection_modifyitems(config, items):
    if os.environ.get("PYTEST_XDIST_WORKER"):  # workers only: a serial run keeps the files' own order
        items.sort(key=_longest_first)  # stable: each file's tests stay together and in order
    for item in items:
        if _keeps_its_module_together(item) and not item.get_closest_marker("xdist_group"):
            item.add_marker(pytest.mark.xdist_group(item.nodeid.split("::")[0]))
        wanted: set[str] = set()
        for name in getattr(item, "fixturenames", ()):
            wanted.update(_MARKERS_BY_FIXTURE.get(name, ()))
        params = getattr(getattr(item, "callspec", None), "params", {})
        if "postgres" in params.values():
            wanted.update(("postgres", "redis"))
        path = item.nodeid.replace("\\", "/")
        if path.startswith(_SLOW_FOLDERS):
            wanted.add("slow")
        for marker in sorted(wanted - {m.name for m in item.iter_markers()}):
            item.add_marker(getattr(pytest.mark, marker))


@pytest.fixture(scope="session")
def artifacts_dir() -> Path:
    path = ROOT / "test-results"
    path.mkdir(exist_ok=True)
    return path


@pytest.fixture(scope="session")
def postgres_server():
    """The throwaway PostgreSQL server (None when TEST_DATABASE_URL points elsewhere)."""
    if os.environ.get("TEST_DATABASE_URL"):
        yield None
        return
    requires_server("PostgreSQL")
    server = PostgresServer()
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def pg_url(postgres_server) -> str:
    """A migrated PostgreSQL database URL."""
    url = os.environ.get("TEST_DATABASE_URL") or postgres_server.url
    run_migrations(database_url=url)
    return url


def _throwaway_redis():
    requires_server("Redis")
    server = RedisServer()
    server.start()
    try:
        yield server
    finally:
        server.destroy()


@pytest.fixture(scope="session")
def redis_server():
    if os.environ.get("TEST_REDIS_URL"):
        yield None
        return
    yield from _throwaway_redis()


@pytest.fixture
def own_redis():
    """A private redis-server this test may stop and start again (the session's stays untouched)."""
    yield from _throwaway_redis()


@pytest.fixture(scope="session")
def redis_url(redis_server) -> str:
    return os.environ.get("TEST_REDIS_URL") or redis_server.url


@pytest.fixture(scope="session")
def sqlite_url(tmp_path_factory) -> str:
    """A migrated SQLite database URL (the embedded mode's engine)."""
    url = "sqlite:///" + str(tmp_path_factory.mktemp("sqlite") / "platform.sqlite")
    run_migrations(database_url=url)
    return url


@pytest.fixture
def production_settings(pg_url, redis_url, tmp_path):
    from backend.settings import load_settings

    return load_settings(env={}, database_url=pg_url, redis_url=redis_url, data_dir=str(tmp_path), log_format="text")


@pytest.fixture
async def client(production_settings):
    """An HTTP client for the app in production mode (PostgreSQL + Redis)."""
    from litestar.testing import AsyncTestClient

    from backend.app import create_app

    async with AsyncTestClient(app=create_app(production_settings)) as test_client:
        yield test_client


class RunningDeployment:
    """A deployment QA points the walks at: only its address (nothing to start or stop)."""

    def __init__(self, url: str) -> None:
        self.url = url


@pytest.fixture(scope="session")
def embedded_server(artifacts_dir):
    """The platform exactly as ``make run`` starts it (embedded mode), on a free port; or, with
    ``BASE_URL`` set (``make e2e BASE_URL=…``), a running deployment with its test environment on."""
    if os.environ.get("BASE_URL"):
        yield RunningDeployment(os.environ["BASE_URL"].rstrip("/"))
        return
    requires_server("the embedded platform")
    data_dir = tempfile.mkdtemp(prefix="embedded.")
    server = PlatformProcess("run", artifacts_dir, data_dir=data_dir, log_format="json")
    server.start()
    try:
        yield server
    finally:
        server.stop()
