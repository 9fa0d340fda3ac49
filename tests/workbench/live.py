"""The real app served over HTTP in the test loop, for back-office HTTP and browser tests."""

from __future__ import annotations

import contextlib
from pathlib import Path

import httpx

from tests.cases.live import serve_platform
from tests.workbench.support import install


@contextlib.asynccontextmanager
async def serve_backoffice(data_dir: Path, monkeypatch=None, **overrides):
    """The platform over HTTP in the test loop, with empty back-office tables."""
    async with serve_platform(data_dir, **overrides) as app:
        await install(app.state.platform)
        yield app


async def login(base_url: str, persona: str) -> dict:
    """A platform session for a sandbox persona (identity's ``POST /sandbox/token``)."""
    async with httpx.AsyncClient(base_url=base_url) as client:
        response = await client.post("/sandbox/token", json={"persona": persona})
        response.raise_for_status()
        return response.json()


def base_url(app) -> str:
    return app.state.platform.settings.base_url
