"""PostgreSQL restarts mid-run (its own throwaway cluster; the session's one is untouched).

While the database is down the API answers a clear 503 problem (``database_unavailable``,
``Retry-After``; ``/readyz`` says ``not_ready``), never a 500; workers stay up, back off and
reconnect; applicants who submit meanwhile retry and get their one case; afterwards every
case completes.
"""

from __future__ import annotations

import asyncio

import httpx
import pytest
from redis.asyncio import Redis

from backend.jobs import RedisWaker
from tests.cases.live import wait_until
from tests.faults.support import Applicants, Stack, assert_outcome, ready_draft, wait_until_settled
from tests.http import assert_problem
from tests.servers import PostgresServer, run_migrations

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

BEFORE, DURING = 12, 8  # cases submitted before the outage, and while the database is down


@pytest.fixture
def own_postgres():
    server = PostgresServer()
    server.start()
    try:
        run_migrations(database_url=server.url)
        yield server
    finally:
        server.destroy()


async def test_postgres_restart_mid_run(own_postgres, redis_url, sandbox, test_platform, tmp_path, artifacts_dir):
    await sandbox.reset()
    platform = await test_platform(own_postgres.url, tmp_path, sandbox, clean=False)
    stack = Stack(
        pg_url=own_postgres.url,
        redis_url=redis_url,
        sandbox=sandbox,
        log_dir=artifacts_dir,
        data_dir=tmp_path,
        api_processes=1,
        workers=2,
        db_pool_size="4",
    )
    applicants = Applicants(stack.url)
    submitted: dict[str, str] = {}
    stack.start()
    try:
        drafts = await asyncio.gather(*(ready_draft(platform, n) for n in range(BEFORE + DURING)))
        async with httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=2.0)) as client:

            async def submit(n: int) -> None:
                case_id, person = drafts[n]
                submitted[case_id] = f"pg-restart-{n}"
                await applicants.submit(client, case_id, person, f"pg-restart-{n}")

            await asyncio.gather(*(submit(n) for n in range(BEFORE)))  # also fetches every applicant's token
            await asyncio.sleep(0.5)  # items are being sent and called back
            await asyncio.to_thread(own_postgres.stop, "fast")

            # the API answers clearly, never with a 500
            assert_problem(await client.get(stack.url + "/readyz"), 503, "not_ready")
            case_id, person = drafts[0]
            auth = {"Authorization": f"Bearer {applicants.tokens[person]}"}
            assert_problem(
                await client.get(f"{stack.url}/api/v1/cases/{case_id}", headers=auth), 503, "database_unavailable"
            )
            late_id, late_person = drafts[BEFORE]
            response = await client.post(
                f"{stack.url}/api/v1/cases/{late_id}/submit",
                headers={
                    "Authorization": f"Bearer {applicants.tokens[late_person]}",
                    "Idempotency-Key": f"pg-restart-{BEFORE}",
                },
            )
            assert_problem(response, 503, "database_unavailable")
            assert response.headers.get("retry-after")
            assert (await client.get(stack.url + "/healthz")).status_code == 200  # alive, just not ready

            # applicants keep trying while the database is down; workers keep trying to claim. A worker
            # whose jobs were all done sleeps on its timers and might not look before the database is
            # back, so they are woken as released items wake them, and each must have tried and failed.
            during = asyncio.gather(*(submit(n) for n in range(BEFORE, BEFORE + DURING)))
            redis = Redis.from_url(redis_url)
            try:
                await RedisWaker(redis).notify()
            finally:
                await redis.aclose()

            async def every_worker_failed_to_claim() -> bool:
                return all("claim failed" in w.log() for w in stack.workers)

            await wait_until(every_worker_failed_to_claim, 20, what="every worker failing to claim, database down")
            await asyncio.sleep(2)  # the applicants' retries meet the outage too
            assert all(w.proc.poll() is None for w in stack.workers), "a worker died with the database"
            await asyncio.to_thread(own_postgres.start)
            await during

        await wait_until_settled(timeout=120)
        await assert_outcome(sandbox, BEFORE + DURING, submitted)
        assert all(w.proc.poll() is None for w in stack.workers), "a worker died after the database came back"
        assert "claim failed" in "".join(w.log() for w in stack.workers)  # they did see the outage
        assert "unhandled error" not in stack.api.log()  # every outage error was answered as a 503
    finally:
        stack.stop()
