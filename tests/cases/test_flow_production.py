"""Production mode under stress: 200 cases through separate API, worker and test-environment
processes on PostgreSQL and Redis, with a worker killed (SIGKILL) mid-run.

Outcome: every case completes, no agency saw an item twice, nothing is dead-lettered.
"""

from __future__ import annotations

import asyncio
import json
import random
import signal
import subprocess
import sys

import httpx
import pytest

from backend import db
from backend.cases import states as st
from backend.cases.service import Actor
from backend.cases.tables import CaseFile
from backend.integration import PLATFORM_CLIENT_ID, platform_signing_key
from backend.jobs.tables import Job
from backend.settings import load_settings
from tests.cases.conftest import clean_database
from tests.cases.test_case_service import complete_draft
from tests.servers import ROOT, PlatformProcess, backend_env, free_port, wait_for

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CLEAN = [  # (USCC, acting person): fixture enterprises in the jurisdiction that nothing blocks
    ("91350102MA0102003U", "P002"),
    ("91350128MA0428396P", "P010"),
    ("91350922MA402222XP", "P090"),
    ("91350521MA39210989", "P086"),
    ("91350802MA460203X9", "P105"),
]
CASES = 200


@pytest.fixture
def test_environment(tmp_path, artifacts_dir):
    """The test environment alone (``python -m backend.sandbox``), trusting the platform's key."""
    key_file = tmp_path / "platform.jwk.json"
    settings = load_settings(env={}, signing_key_file=str(key_file))
    from backend.connectors.signing import jwks_of

    (tmp_path / "platform.jwks.json").write_text(json.dumps(jwks_of(platform_signing_key(settings))))
    port = free_port()
    log = open(artifacts_dir / f"sandbox-{port}.log", "ab")
    proc = subprocess.Popen(
        [sys.executable, "-m", "backend.sandbox", "--port", str(port), "--processing-seconds", "0", "--trust", f"{PLATFORM_CLIENT_ID}={tmp_path / 'platform.jwks.json'}"],
        cwd=ROOT, env=backend_env(), stdout=log, stderr=subprocess.STDOUT,
    )
    url = f"http://127.0.0.1:{port}"
    wait_for(lambda: httpx.get(url + "/sim/etax/.well-known/jwks.json", timeout=1).status_code == 200, "test environment")
    try:
        yield url, str(key_file)
    finally:
        proc.terminate()
        proc.wait(10)


async def test_200_cases_survive_a_killed_worker(pg_url, redis_url, test_environment, tmp_path, artifacts_dir):
    from backend.app import build_platform

    sandbox_url, key_file = test_environment
    api_port = free_port()
    common = dict(
        database_url=pg_url, redis_url=redis_url, test_env="true", connector_base_url=sandbox_url + "/sim",
        signing_key_file=key_file, public_url=f"http://127.0.0.1:{api_port}", poll_seconds="3", worker_idle_seconds="2",
        worker_lease_seconds="5", data_dir=str(tmp_path),
    )
    # the test acts as the applicants' client: same database, wake-ups through Redis
    settings = load_settings(env={}, **{k: v for k, v in common.items() if k != "test_env"}, test_env=True)
    platform = build_platform(settings)
    db.bind(platform.engine)
    await db.start(platform.engine, settings)
    await clean_database()

    api = PlatformProcess("api", artifacts_dir, port=str(api_port), api_processes="2", **common)
    workers = [PlatformProcess("worker", artifacts_dir, **common) for _ in range(3)]
    api.start()
    for worker in workers:
        worker.start(wait=False)
    try:
        async def one(n: int) -> str:
            uscc, person = CLEAN[n % len(CLEAN)]
            actor = Actor(id=person)
            draft = await complete_draft(platform, actor, uscc=uscc)
            await platform.cases.submit(actor, draft.id, f"stress-{n}")
            return draft.id

        ids: list[str] = []
        for start in range(0, CASES, 25):
            ids += await asyncio.gather(*(one(n) for n in range(start, min(start + 25, CASES))))
            if start == 100:
                victim = random.choice(workers)
                victim.signal(signal.SIGKILL)  # mid-run, with jobs claimed
                replacement = PlatformProcess("worker", artifacts_dir, **common)
                replacement.start(wait=False)
                workers.append(replacement)

        deadline = asyncio.get_running_loop().time() + 240
        while True:
            open_cases = await CaseFile.count().where(CaseFile.status.is_in([st.SUBMITTED, st.ACTION_REQUIRED]))
            if open_cases == 0 or asyncio.get_running_loop().time() > deadline:
                break
            await asyncio.sleep(1)
        statuses = {r["status"] for r in await CaseFile.select(CaseFile.status)}
        assert statuses == {st.CASE_COMPLETED}, statuses
        assert await CaseFile.count() == CASES
        assert await Job.count().where(Job.status == "dead") == 0
        async with httpx.AsyncClient() as client:
            stats = [(await client.get(f"{sandbox_url}/sim/{system}/admin/stats")).json() for system in platform.connectors]
        assert sum(s["duplicates"] for s in stats) == 0, stats
        assert sum(s["submissions"] for s in stats) >= CASES * 7
        # no full USCC or resident ID number in any log line of the API or the workers
        import re

        logs = "".join(p.log() for p in [api, *workers])
        assert "worker started" in logs and not re.search(r"(?<![0-9A-Z])(?:9[1-3]35|35\d{2})[0-9A-Z]{14}(?![0-9A-Z])", logs)
    finally:
        for proc in [*workers, api]:
            proc.stop()
        for connector in platform.connectors.values():
            await connector.aclose()
        await db.stop(platform.engine)
