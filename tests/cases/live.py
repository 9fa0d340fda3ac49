"""The platform served over real HTTP inside the test's event loop (uvicorn as a task), so
connectors reach the mounted simulators and the simulators call back, all over loopback."""

from __future__ import annotations

import asyncio
import contextlib
from pathlib import Path

import uvicorn

from backend.settings import load_settings
from tests.servers import free_port, requires_server, run_migrations


@contextlib.asynccontextmanager
async def serve_platform(data_dir: Path, database_url: str | None = None, **overrides):
    from backend.app import create_app

    requires_server("a live platform")
    port = free_port()
    url = database_url or "sqlite:///" + str(data_dir / "platform.sqlite")
    if database_url is None:
        run_migrations(database_url=url)
    options = dict(
        test_env=True,
        in_process_worker=True,
        sim_processing_seconds=0,
        poll_seconds=2,
        worker_idle_seconds=1,
        log_format="text",
        log_level="WARNING",
    )
    settings = load_settings(env={}, database_url=url, data_dir=str(data_dir), port=port, **{**options, **overrides})
    app = create_app(settings)
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on", access_log=False)
    )
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield app
    finally:
        server.should_exit = True
        await task


async def wait_until(predicate, timeout: float = 60.0, interval: float = 0.2, what: str = "condition"):
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        value = await predicate()
        if value:
            return value
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what} not met within {timeout}s (last value {value!r})")
        await asyncio.sleep(interval)


@contextlib.asynccontextmanager
async def platform_client(data_dir: Path, **overrides):
    """An HTTP client to the platform served by ``serve_platform``; the app is at ``client.app``."""
    import httpx

    async with (
        serve_platform(data_dir, **overrides) as app,
        httpx.AsyncClient(base_url=str(app.state.platform.settings.base_url)) as client,
    ):
        client.app = app  # type: ignore[attr-defined]
        yield client
