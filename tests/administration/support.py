"""Administration test helpers: the app over HTTP, and a second catalog version (a copy of the
one shipped) so publication has something to switch to."""

from __future__ import annotations

import contextlib
import shutil
from pathlib import Path


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
    meta.write_text(
        meta.read_text(encoding="utf-8").replace(f'version: "{shipped}"', f'version: "{newer}"', 1), encoding="utf-8"
    )
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
    """The app over real HTTP inside the test's event loop (no in-process worker); yields (app, base_url)."""
    from tests.cases.live import serve_platform

    options = {"in_process_worker": False, "connector_base_url": "http://127.0.0.1:9/sim", **overrides}
    async with serve_platform(data_dir, database_url=database_url, **options) as app:
        yield app, app.state.platform.settings.base_url
