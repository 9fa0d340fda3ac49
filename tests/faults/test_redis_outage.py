"""Redis stops mid-run and comes back (its own redis-server; the session's one is untouched).

Redis carries wake-ups, live updates and rate-limit counters, nothing that is the record,
so the platform degrades instead of failing (``backend.system.degraded``):

- the API keeps serving reads, submissions and rate-limited routes (never a 500);
  ``/readyz`` answers 200 ``degraded``; live updates answer 503 so clients poll instead;
- workers fall back to their timers, so cases submitted during the outage still complete;
- when Redis returns, readiness is back, workers are subscribed to wake-ups again and
  live updates reach subscribers again.
"""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest

from tests.cases.live import wait_until
from tests.faults.support import Applicants, Stack, assert_outcome, ready_draft, wait_until_settled

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

BATCH = 6  # cases before, during and after the outage


async def follow(client: httpx.AsyncClient, url: str, token: str, seen: list[str]) -> None:
    """Read a case's live updates (SSE) and note each event type."""
    async with client.stream(
        "GET",
        url,
        headers={"Authorization": f"Bearer {token}", "Accept": "text/event-stream"},
        timeout=httpx.Timeout(None, connect=5),
    ) as response:
        assert response.status_code == 200, await response.aread()
        async for line in response.aiter_lines():
            if line.startswith("event:"):
                seen.append(line.split(":", 1)[1].strip())


async def case_status(client: httpx.AsyncClient, url: str, token: str) -> str:
    response = await client.get(url, headers={"Authorization": f"Bearer {token}"})
    assert response.status_code == 200, response.text
    return response.json()["status"]


async def test_redis_outage_degrades_loses_nothing_and_recovers(
    pg_url, own_redis, sandbox, test_platform, tmp_path, artifacts_dir
):
    from redis.asyncio import Redis

    await sandbox.reset()
    platform = await test_platform(pg_url, tmp_path, sandbox)
    stack = Stack(
        pg_url=pg_url,
        redis_url=own_redis.url,
        sandbox=sandbox,
        log_dir=artifacts_dir,
        data_dir=tmp_path,
        api_processes=1,
        workers=2,
    )
    applicants = Applicants(stack.url)
    submitted: dict[str, str] = {}
    stack.start()
    watchers: list[asyncio.Task] = []
    try:
        drafts = await asyncio.gather(*(ready_draft(platform, n) for n in range(3 * BATCH)))
        async with httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=2.0)) as client:

            async def submit(n: int) -> dict:
                case_id, person = drafts[n]
                submitted[case_id] = f"redis-outage-{n}"
                return await applicants.submit(client, case_id, person, f"redis-outage-{n}")

            async def watch(n: int) -> list[str]:
                case_id, person = drafts[n]
                await applicants._token(client, person)
                seen: list[str] = []
                task = asyncio.create_task(
                    follow(client, f"{stack.url}/api/v1/cases/{case_id}/events", applicants.tokens[person], seen)
                )
                watchers.append(task)
                await wait_until(
                    lambda: asyncio.sleep(0, result="snapshot" in seen or task.done()),
                    10,
                    interval=0.3,
                    what="SSE snapshot",
                )
                if task.done():
                    task.result()  # raises what went wrong (e.g. 503 while Redis is still down)
                return seen

            async def completed(n: int) -> bool:
                case_id, person = drafts[n]
                return (
                    await case_status(client, f"{stack.url}/api/v1/cases/{case_id}", applicants.tokens[person])
                    == "completed"
                )

            # before: live updates flow
            seen_before = await watch(0)
            await asyncio.gather(*(submit(n) for n in range(BATCH)))
            await wait_until(
                lambda: asyncio.sleep(0, result="item.completed" in seen_before),
                60,
                interval=0.3,
                what="live updates before the outage",
            )

            await asyncio.to_thread(own_redis.stop)
            retries = applicants.retries

            # during: everything is served (no 5xx at all: no retries needed), readiness says degraded
            ready = await client.get(stack.url + "/readyz")
            assert ready.status_code == 200, ready.text
            assert ready.json()["status"] == "degraded" and ready.json()["checks"]["redis"].startswith("unavailable")
            for _ in range(3):  # a rate-limited route: limits fall back to this process
                response = await client.post(stack.url + "/sandbox/token", json={"persona": "person-P002"})
                assert response.status_code == 200, response.text
            await asyncio.gather(*(submit(n) for n in range(BATCH, 2 * BATCH)))
            assert applicants.retries == retries, "a submission needed a retry while Redis was down"
            live = await client.get(
                f"{stack.url}/api/v1/cases/{drafts[BATCH][0]}/events",
                headers={"Authorization": f"Bearer {applicants.tokens[drafts[BATCH][1]]}"},
            )
            assert (
                live.status_code == 503 and live.json()["code"] == "live_updates_unavailable"
            )  # EventSource clients poll instead
            # workers run on their timers: the cases submitted during the outage complete during it
            for n in range(BATCH, 2 * BATCH):
                await wait_until(lambda n=n: completed(n), 90, interval=0.3, what=f"case {n} during the outage")
            assert all(w.proc.poll() is None for w in stack.workers)

            await asyncio.to_thread(own_redis.start)

            # after: ready again, wake-ups subscribed again, live updates flow again
            async def ready_again() -> bool:
                response = await client.get(stack.url + "/readyz")
                return response.status_code == 200 and response.json()["status"] == "ready"

            await wait_until(ready_again, 20, interval=0.3, what="readiness after Redis returned")
            redis = Redis.from_url(own_redis.url)
            try:

                async def workers_listening() -> bool:
                    return dict(await redis.pubsub_numsub("jobs:wake")).get(b"jobs:wake", 0) >= len(stack.workers)

                await wait_until(workers_listening, 30, interval=0.3, what="workers subscribed to wake-ups again")
            finally:
                await redis.aclose()

            async def watch_after() -> list[str]:
                async def attempt() -> list[str] | None:
                    with contextlib.suppress(AssertionError):
                        return await watch(2 * BATCH)
                    return None

                return await wait_until(attempt, 20, interval=0.3, what="live updates accepted again")

            seen_after = await watch_after()
            await asyncio.gather(*(submit(n) for n in range(2 * BATCH, 3 * BATCH)))
            await wait_until(
                lambda: asyncio.sleep(0, result="item.completed" in seen_after),
                60,
                interval=0.3,
                what="live updates after the outage",
            )

        await wait_until_settled(timeout=90)
        await assert_outcome(sandbox, 3 * BATCH, submitted)
        api_log = stack.api.log()
        assert "redis unavailable: degraded" in api_log and "unhandled error" not in api_log
        assert "wake-up channel back" in "".join(w.log() for w in stack.workers)
    finally:
        for task in watchers:
            task.cancel()
        await asyncio.gather(*watchers, return_exceptions=True)
        stack.stop()
