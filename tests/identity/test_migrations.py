"""The identity migration builds the schema the code uses (applied with Piccolo, as ``migrate`` will)."""

from __future__ import annotations

import subprocess
import sys

from litestar.testing import AsyncTestClient

from backend.settings import load_settings
from tests.identity.conftest import TEST_BASE, bearer, build_identity_app, token_for
from tests.servers import ROOT, backend_env


def _migrate(database_url: str) -> None:
    env = backend_env(database_url=database_url)
    env["PICCOLO_CONF"] = "tests.identity.piccolo_conf_with_identity"
    result = subprocess.run([sys.executable, "-m", "piccolo.main", "migrations", "forwards", "all"], cwd=ROOT, env=env, capture_output=True, text=True)
    assert result.returncode == 0, result.stdout + result.stderr


async def test_migrated_sqlite_schema_serves_the_flows(tmp_path):
    url = "sqlite:///" + str(tmp_path / "migrated.sqlite")
    _migrate(url)
    settings = load_settings(env={}, database_url=url, data_dir=str(tmp_path), public_url=TEST_BASE, log_format="text")
    app = build_identity_app(settings, keys_file=str(tmp_path / "k.json"), create_tables=False)
    async with AsyncTestClient(app=app, base_url=TEST_BASE) as client:
        legal = await token_for(client, "applicant-p002")
        assert (await client.get("/api/v1/me", headers=bearer(legal))).status_code == 200
        grant = await client.post("/api/v1/mandates", json={"uscc": "91350102MA0102003U", "agent_id_number": "350102196501010000"}, headers=bearer(legal))
        assert grant.status_code == 201, grant.text
        started = await client.post("/api/v1/face-verifications", json={"purpose": "submit"}, headers=bearer(legal))
        assert started.status_code == 201
        refreshed = await client.post("/auth/refresh", json={"refresh_token": legal["refresh_token"]})
        assert refreshed.status_code == 200
