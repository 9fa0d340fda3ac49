"""SIGKILL of workers and API processes at random moments during a run of 200 cases.

Production mode on PostgreSQL and Redis: ``python -m backend api`` (two uvicorn processes),
several ``python -m backend worker``s and the test environment as its own process. The
applicants submit over HTTP; when the API dies mid-request the phone sees a dropped
connection and sends the same request again with the same Idempotency-Key, and must end
up with exactly one case. Workers die with jobs claimed; their leases run out and other
workers take the jobs over.

The kills follow a seeded random schedule: the seed is printed (and kept in the report);
rerun a failure with ``FAULT_SEED=<seed>``. ``FAULT_CASES`` changes the number of cases.
"""

from __future__ import annotations

import asyncio
import os
import random

import httpx
import pytest

from tests.faults.support import FULL_IDENTIFIER, Applicants, Stack, assert_outcome, ready_draft, wait_until_settled

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CASES = int(os.environ.get("FAULT_CASES", "200"))


#: what gets killed in one run (the order and the moments are random): bounded, so the run is too
KILLS = ["worker", "worker", "worker", "api-child", "api-child", "api"]


async def chaos(stack: Stack, rng: random.Random, window: float, journal: list[str]) -> None:
    """Kill the processes of ``KILLS`` in a random order at random moments within ``window`` seconds."""
    loop = asyncio.get_running_loop()
    started = loop.time()
    plan = sorted((rng.uniform(1.0, window), action) for action in KILLS)
    rng.shuffle(plan)  # shuffle which action gets which moment, keeping the moments sorted
    moments = sorted(at for at, _ in plan)
    restart: asyncio.Task | None = None  # the API comes back while other kills go on
    for at, (_, action) in zip(moments, plan, strict=True):
        await asyncio.sleep(max(0.0, started + at - loop.time()))
        stamp = f"{loop.time() - started:6.1f}s"
        if action == "worker":
            index = rng.randrange(len(stack.workers))
            stack.kill_worker(index)
            journal.append(f"{stamp} SIGKILL worker #{index} (a replacement starts)")
        elif action == "api":
            restart = asyncio.create_task(stack.kill_api(down_seconds=rng.uniform(0.0, 2.0)))
            journal.append(f"{stamp} SIGKILL every API process (they restart)")
        else:
            if restart is not None:
                await restart
            killed = stack.kill_api_child(rng.randrange(2))
            journal.append(
                f"{loop.time() - started:6.1f}s SIGKILL one of the API's uvicorn "
                f"processes{'' if killed else ' (none found)'}"
            )
    if restart is not None:
        await restart


async def test_200_cases_survive_random_sigkills_of_workers_and_api(
    pg_url, redis_url, sandbox, test_platform, tmp_path, artifacts_dir
):
    seed = int(os.environ.get("FAULT_SEED") or random.SystemRandom().randrange(1_000_000))
    print(f"\nFAULT_SEED={seed}")  # pytest shows it with the failure; rerun with it to reproduce
    rng = random.Random(seed)
    await sandbox.reset()
    platform = await test_platform(pg_url, tmp_path, sandbox)
    stack = Stack(
        pg_url=pg_url,
        redis_url=redis_url,
        sandbox=sandbox,
        log_dir=artifacts_dir,
        data_dir=tmp_path,
        api_processes=2,
        workers=3,
    )
    applicants = Applicants(stack.url)
    journal: list[str] = []
    submitted: dict[str, str] = {}
    stack.start()
    chaos_task = asyncio.create_task(chaos(stack, rng, window=CASES * 0.25, journal=journal))
    try:
        async with httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=2.0)) as client:

            async def one(n: int) -> None:
                case_id, person = await ready_draft(platform, n)
                key = f"faults-{seed}-{n}"
                submitted[case_id] = key
                await applicants.submit(client, case_id, person, key)

            loop = asyncio.get_running_loop()
            began = loop.time()
            at_once = asyncio.Semaphore(25)  # applicants busy at the same moment

            async def applicant(n: int) -> None:
                async with at_once:
                    await one(n)

            await asyncio.gather(*(applicant(n) for n in range(CASES)))
            submitted_after = loop.time() - began
            await chaos_task  # the last kills may fall after the last submission, while work is in flight
            await wait_until_settled(timeout=240)
            settled_after = loop.time() - began
            print(f"{CASES} submitted after {submitted_after:.0f}s, settled after {settled_after:.0f}s")
        assert len(journal) == len(KILLS), journal
        await assert_outcome(sandbox, CASES, submitted)
        logs = stack.logs()
        assert "worker started" in logs
        assert "unhandled error" not in logs, [line for line in logs.splitlines() if "unhandled error" in line][
            :2
        ]  # no 500s
        leaked = FULL_IDENTIFIER.search(logs)
        assert leaked is None, (
            f"full identifier in a log line: ...{logs[max(0, leaked.start() - 200) : leaked.end() + 50]}"
        )
    finally:  # shown with a failure: what was killed when, to reproduce with FAULT_SEED
        print(
            "\n".join(
                [
                    f"kills (FAULT_SEED={seed}):",
                    *journal,
                    f"submit retries after dropped connections / 5xx: {applicants.retries}",
                ]
            )
        )
        if not chaos_task.done():
            chaos_task.cancel()
        stack.stop()
