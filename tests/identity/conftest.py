"""Fixtures for identity: a Litestar app wired the way ``backend.app.create_app`` will wire identity.

Until ``backend.identity.piccolo_app`` is in ``backend/piccolo_conf.py``, ``python -m backend
migrate`` does not know the identity tables, so the app's lifespan here creates them with
``create_db_tables(..., if_not_exists=True)``.
"""

from __future__ import annotations

import asyncio
import contextlib
import threading
from collections.abc import AsyncIterator

import httpx
import pytest
from litestar import Litestar
from litestar.di import Provide
from litestar.stores.memory import MemoryStore
from litestar.stores.redis import RedisStore
from litestar.stores.registry import StoreRegistry
from litestar.testing import AsyncTestClient
from piccolo.table import create_db_tables

from backend import db
from backend.app import build_platform
from backend.identity import IDENTITY_DEPENDENCIES, ROUTES, SANDBOX_ROUTES, TABLES, IdentityConfig, configure_identity
from backend.lib.clock import VirtualClock
from backend.lib.logging import request_id_middleware
from backend.lib.problems import EXCEPTION_HANDLERS
from backend.settings import load_settings
from tests.http import bearer
from tests.http import sandbox_tokens as token_for
from tests.servers import clear_rate_limits, free_port, wait_for

TEST_BASE = "http://testserver.local"


def build_identity_app(
    settings, *, clock=None, keys_file: str, transport_to_self: bool = True, create_tables: bool = True, **config
) -> Litestar:
    """The identity routes on a platform, mirroring the wiring the lead adds to ``create_app``."""
    platform = build_platform(settings, clock)

    @contextlib.asynccontextmanager
    async def lifespan(app: Litestar) -> AsyncIterator[None]:
        db.bind(platform.engine)
        for table in TABLES:  # until identity is in APP_REGISTRY
            table._meta.db = platform.engine
        await db.start(platform.engine, settings)
        if create_tables:
            await create_db_tables(*TABLES, if_not_exists=True)
        try:
            yield
        finally:
            await db.stop(platform.engine)
            if platform.redis is not None:
                await platform.redis.aclose()

    if platform.redis is not None:
        stores = StoreRegistry(default_factory=lambda name: RedisStore(platform.redis, namespace=f"yjs:{name}"))
    else:
        stores = StoreRegistry(default_factory=lambda name: MemoryStore())
    app = Litestar(
        route_handlers=[*ROUTES, *(SANDBOX_ROUTES if settings.test_env_enabled else [])],
        dependencies={
            "platform": Provide(lambda: platform, use_cache=True, sync_to_thread=False),
            **IDENTITY_DEPENDENCIES,
        },
        exception_handlers=EXCEPTION_HANDLERS,
        middleware=[request_id_middleware],
        stores=stores,
        lifespan=[lifespan],
        state={"platform": platform},
        logging_config=None,
        debug=False,
    )
    configure_identity(
        platform,
        IdentityConfig(
            keys_file=keys_file, transport=httpx.ASGITransport(app=app) if transport_to_self else None, **config
        ),
    )
    return app


@pytest.fixture
def pg_settings(pg_url, redis_url, tmp_path):
    clear_rate_limits(redis_url)
    return load_settings(
        env={},
        database_url=pg_url,
        redis_url=redis_url,
        data_dir=str(tmp_path),
        public_url=TEST_BASE,
        test_env=True,
        log_format="text",
    )


@pytest.fixture
def sqlite_settings(sqlite_url, tmp_path):
    return load_settings(
        env={}, database_url=sqlite_url, data_dir=str(tmp_path), public_url=TEST_BASE, log_format="text"
    )


@pytest.fixture
def clock() -> VirtualClock:
    return VirtualClock()


@pytest.fixture
async def api(pg_settings, clock, tmp_path):
    """An HTTP client for identity on PostgreSQL + Redis (production mode, test environment on)."""
    app = build_identity_app(pg_settings, clock=clock, keys_file=str(tmp_path / "keys.json"))
    async with AsyncTestClient(app=app, base_url=TEST_BASE) as client:
        client.follow_redirects = False
        client.platform = app.state["platform"]  # type: ignore[attr-defined]
        yield client


@pytest.fixture(params=["postgres", "sqlite"])
async def any_api(request, clock, tmp_path):
    """The same, once on PostgreSQL and once on SQLite (embedded)."""
    settings = request.getfixturevalue("pg_settings" if request.param == "postgres" else "sqlite_settings")
    app = build_identity_app(settings, clock=clock, keys_file=str(tmp_path / "keys.json"))
    async with AsyncTestClient(app=app, base_url=TEST_BASE) as client:
        client.follow_redirects = False
        client.platform = app.state["platform"]  # type: ignore[attr-defined]
        yield client


class LiveServer:
    """The identity app under uvicorn in a thread, on a free port (real HTTP end to end)."""

    def __init__(self, settings_factory, keys_file: str) -> None:
        import uvicorn

        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        settings = settings_factory(self.url)
        self.app = build_identity_app(settings, keys_file=keys_file, transport_to_self=False)
        self.server = uvicorn.Server(
            uvicorn.Config(self.app, host="127.0.0.1", port=self.port, log_config=None, access_log=False, lifespan="on")
        )
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> None:
        self.thread.start()
        wait_for(lambda: self.server.started, "uvicorn", 20)

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(10)


@pytest.fixture(params=["sqlite", "postgres"])
def live_server(request, tmp_path):
    if request.param == "postgres":
        pg_url = request.getfixturevalue("pg_url")
        redis_url = request.getfixturevalue("redis_url")
        clear_rate_limits(redis_url)

        def factory(url: str):
            return load_settings(
                env={},
                database_url=pg_url,
                redis_url=redis_url,
                data_dir=str(tmp_path),
                public_url=url,
                test_env=True,
                log_format="text",
            )
    else:
        sqlite_url = request.getfixturevalue("sqlite_url")

        def factory(url: str):
            return load_settings(
                env={}, database_url=sqlite_url, data_dir=str(tmp_path), public_url=url, log_format="text"
            )

    server = LiveServer(factory, str(tmp_path / "keys.json"))
    server.start()
    try:
        yield server
    finally:
        server.stop()


async def in_app(client, fn, *args, **kwargs):
    """Run a service coroutine on the app's event loop (the test client runs the app in its own thread)."""
    import functools

    async def call():
        return await fn(*args, **kwargs)

    return await asyncio.to_thread(client.blocking_portal.call, functools.partial(call))


__all__ = ["bearer", "in_app", "token_for"]
