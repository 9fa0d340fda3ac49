"""Administration test helpers: the app over HTTP, and a second catalog version (a copy of the
one shipped) so publication has something to switch to."""

from __future__ import annotations

import contextlib
import shutil
import subprocess
import sys
from pathlib import Path

from tests.servers import ROOT, backend_env

async def clean(platform) -> None:
    from backend.administration.piccolo_app import APP_CONFIG

    for table in APP_CONFIG.table_classes:
        await table.delete(force=True)


def two_catalog_versions(tmp_path: Path, monkeypatch) -> tuple[str, str]:
    """Point the loader at a data folder holding the shipped version and a copy named one higher."""
    from backend.catalog import loader

    shipped = loader.available_versions()[-1]
    year, n = shipped.split(".")
    newer = f"{year}.{int(n) + 1}"
    data = tmp_path / "catalog-data"
    data.mkdir()
    shutil.copytree(loader.DATA_DIR / shipped, data / shipped)
    shutil.copytree(loader.DATA_DIR / shipped, data / newer)
    meta = data / newer / "catalog.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace(f'version: "{shipped}"', f'version: "{newer}"', 1), encoding="utf-8")
    monkeypatch.setattr(loader, "DATA_DIR", data)
    loader.available_versions.cache_clear()
    loader._load.cache_clear()
    return shipped, newer


def restore_catalogs() -> None:
    from backend.catalog import loader

    loader.available_versions.cache_clear()
    loader._load.cache_clear()


@contextlib.asynccontextmanager
async def serve(database_url: str, data_dir: Path, **overrides):
    """The app (administration wired) over real HTTP inside the test's event loop; yields (app, base_url).
    """
    import asyncio

    import uvicorn

    from backend.app import create_app
    from backend.settings import load_settings
    from tests.servers import free_port

    port = free_port()
    options = {"test_env": True, "log_format": "text", "log_level": "WARNING", "in_process_worker": False, "connector_base_url": "http://127.0.0.1:9/sim", **overrides}
    settings = load_settings(env={}, database_url=database_url, data_dir=str(data_dir), port=port, **options)
    app = create_app(settings)
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, lifespan="on", access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.05)
    try:
        yield app, f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task
