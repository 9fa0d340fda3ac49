"""Fixtures of the fault-injection suite: the test environment as its own process, and the
test's own handle on a database (drafts and outcome checks). Helpers are in ``support.py``."""

from __future__ import annotations

import json
import subprocess
from pathlib import Path

import httpx
import pytest

from tests.faults.support import Sandbox
from tests.servers import backend_env, free_port, sandbox_command, spawn, wait_for


@pytest.fixture(scope="session")
def sandbox(tmp_path_factory, artifacts_dir):
    """The test environment alone (``python -m backend.sandbox``), trusting the platform's key."""
    from backend.integration import PLATFORM_CLIENT_ID, platform_jwks
    from backend.settings import load_settings

    keys = tmp_path_factory.mktemp("keys")
    key_file = keys / "platform.jwk.json"
    settings = load_settings(env={}, signing_key_file=str(key_file))
    (keys / "platform.jwks.json").write_text(json.dumps(platform_jwks(settings)))  # ES256 and SM2
    port = free_port()
    log_path = artifacts_dir / f"faults-sandbox-{port}.log"
    proc = spawn(
        sandbox_command(port, f"{PLATFORM_CLIENT_ID}={keys / 'platform.jwks.json'}"), log_path, env=backend_env()
    )
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(
            lambda: httpx.get(url + "/sim/etax/.well-known/jwks.json", timeout=1).status_code == 200,
            "test environment",
            60,
        )
        yield Sandbox(url=url, key_file=str(key_file), log_path=log_path)
    finally:
        proc.terminate()
        try:
            proc.wait(10)
        except subprocess.TimeoutExpired:
            proc.kill()
            proc.wait(5)


@pytest.fixture
async def test_platform(request):
    """The test's own handle on a database (``request.param`` or the session's PostgreSQL): drafts and checks."""
    from backend import db
    from backend.app import build_platform
    from backend.settings import load_settings
    from tests.cases.conftest import clean_database

    async def open_platform(database_url: str, data_dir: Path, sandbox: Sandbox, *, clean: bool = True):
        settings = load_settings(
            env={},
            database_url=database_url,
            data_dir=str(data_dir),
            test_env=True,
            connector_base_url=sandbox.url + "/sim",
            signing_key_file=sandbox.key_file,
        )
        platform = build_platform(settings)
        db.bind(platform.engine)
        await db.start(platform.engine, settings)
        if clean:
            await clean_database()
        opened.append(platform)
        return platform

    opened: list = []
    yield open_platform
    for platform in opened:
        for connector in platform.connectors.values():
            await connector.aclose()
        await db.stop(platform.engine)
