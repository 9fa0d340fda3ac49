"""Pipeline throughput: cases through every applicable simulated agency system (zero simulated
processing time) on PostgreSQL with several workers, and the memory of the API and worker
processes under that load.

Method: N complete drafts are made and submitted the way an applicant would (in this process,
on the same database) while no worker runs, so every first send job waits in the queue; then
the workers start and the clock runs until every case is closed. Agencies call back through
the API (``python -m backend api``), exactly as in production.

Targets (issue 10, restated in issue 20; docs/benchmarks.md says why): 1,000 cases in at most
120 s with two workers on the two cores the simulated agencies share (≥ 8.3 cases/s: a year-end
peak day of a province in minutes); API process ≤ 150 MB. The platform's own CPU per agency
submission (API, workers, PostgreSQL, Redis) is reported beside it: what sizing a deployment needs.
The first statement, 60 s, asked ≤ 13 ms per submission of every role together, the simulated
agencies' included, about 40% below what the platform's database round trips cost.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import subprocess
import sys
import threading
import time

from bench.api import APPLICANTS
from bench.harness import cpu_seconds, gather_limited, now, process_tree, production_stack, rss_mb, target

CASES = int(os.environ.get("BENCH_CASES", "1000"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
# One API process, the platform's default: on two cores shared by every role, a second one made
# each callback cost more CPU (more wake-ups for the same work) and the run slower (docs/benchmarks.md).
API_PROCESSES = int(os.environ.get("BENCH_API_PROCESSES", "1"))
TIMEOUT = float(os.environ.get("BENCH_PIPELINE_TIMEOUT", "600"))


async def submit_cases(stack, n: int) -> float:
    from backend import db
    from backend.app import build_platform
    from backend.identity.actor import Actor
    from backend.settings import load_settings
    from tests.cases.support import complete_draft

    settings = load_settings(env={}, **{k: v for k, v in stack.settings.items() if k != "test_env"}, test_env=True)
    platform = build_platform(settings)
    db.bind(platform.engine)
    await db.start(platform.engine, settings)
    started = now()
    try:

        async def one(i: int) -> None:
            uscc, person, _ = APPLICANTS[i % len(APPLICANTS)]
            draft = await complete_draft(platform, Actor(id=person), uscc=uscc)
            await platform.cases.submit(Actor(id=person), draft.id, f"bench-pipeline-{i}")

        await gather_limited(n, 16, one)
        return now() - started
    finally:
        for connector in platform.connectors.values():
            await connector.aclose()
        await db.stop(platform.engine)


class MemorySampler(threading.Thread):
    """Peak resident memory per process of each role, sampled every 0.25 s."""

    def __init__(self, roles: dict[str, list[int]]) -> None:
        super().__init__(daemon=True)
        self.roles = roles
        self.peak: dict[str, float] = {role: 0.0 for role in roles}
        self.stop_event = threading.Event()

    def run(self) -> None:
        while not self.stop_event.wait(0.25):
            for role, roots in self.roles.items():
                for root in roots:
                    for pid in process_tree(root):
                        with contextlib.suppress(FileNotFoundError, KeyError, ProcessLookupError):
                            self.peak[role] = max(self.peak[role], rss_mb(pid)[1])


async def wait_closed(stack, n: int) -> tuple[float, dict]:
    import asyncpg

    conn = await asyncpg.connect(stack.pg.url)
    started = now()
    try:
        while now() - started < TIMEOUT:
            counts = {
                r["status"]: r["n"]
                for r in await conn.fetch("SELECT status, count(*) AS n FROM case_file GROUP BY status")
            }
            if sum(v for k, v in counts.items() if k not in ("submitted", "action_required", "draft")) >= n:
                break
            if int(now() - started) // 5 != int(now() - started - 0.2) // 5:
                items = {
                    r["status"]: r["n"]
                    for r in await conn.fetch("SELECT status, count(*) AS n FROM case_item GROUP BY status")
                }
                jobs = {
                    f"{r['kind']}/{r['status']}": r["n"]
                    for r in await conn.fetch("SELECT kind, status, count(*) AS n FROM job GROUP BY kind, status")
                }
                print(f"pipeline: {now() - started:5.0f} s cases {counts} items {items} jobs {jobs}", file=sys.stderr)
            await asyncio.sleep(0.2)
        elapsed = now() - started
        items = await conn.fetchval("SELECT count(*) FROM case_item")
        dead = await conn.fetchval("SELECT count(*) FROM job WHERE status = 'dead'")
        return elapsed, {"case_statuses": counts, "items": items, "dead_jobs": dead}
    finally:
        await conn.close()


async def statements(stack, out: str | None, sent: int = 0) -> None:
    """With BENCH_PROFILE: reset PostgreSQL's statement statistics (``sent`` 0), or write them
    to ``<dir>/postgresql-statements.txt``, heaviest first, with calls per agency submission."""
    if not out:
        return
    import asyncpg

    conn = await asyncpg.connect(stack.pg.url)
    try:
        if not sent:
            await conn.execute("CREATE EXTENSION IF NOT EXISTS pg_stat_statements")
            await conn.execute("SELECT pg_stat_statements_reset()")
            return
        rows = await conn.fetch(
            "SELECT calls, total_exec_time, total_plan_time, rows, query FROM pg_stat_statements WHERE query NOT LIKE "
            "'%pg_stat_statements%' ORDER BY total_exec_time DESC"
        )
        with open(f"{out}/postgresql-statements.txt", "w") as f:
            f.write(f"{sent} agency submissions; {sum(r['calls'] for r in rows) / sent:.1f} statements each\n")
            f.write(
                "calls/sub  total ms  mean ms  plan ms  rows/call  statement  (total and mean: execution, lock waits "
                "included; plan: total planning)\n"
            )
            for r in rows:
                query = " ".join(r["query"].split())
                f.write(
                    f"{r['calls'] / sent:9.2f} {r['total_exec_time']:9.0f} {r['total_exec_time'] / r['calls']:8.3f} "
                    f"{r['total_plan_time']:8.0f} {r['rows'] / r['calls']:10.1f}  {query[:400]}\n"
                )
    finally:
        await conn.close()


def profile(pids: list[int]) -> list[subprocess.Popen]:
    """With BENCH_PROFILE=<dir>, sample each process with py-spy (collapsed stacks) while the pipeline runs."""
    out = os.environ.get("BENCH_PROFILE")
    if not out:
        return []
    os.makedirs(out, exist_ok=True)
    seconds = os.environ.get("BENCH_PROFILE_SECONDS", "20")
    return [
        subprocess.Popen(
            [
                "py-spy",
                "record",
                "--nonblocking",
                "-r",
                "50",
                "-d",
                seconds,
                "-f",
                "raw",
                "-o",
                f"{out}/{pid}.txt",
                "-p",
                str(pid),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        for pid in pids
    ]


def run() -> dict:
    with production_stack() as stack:
        api = stack.start_api(API_PROCESSES)
        print(f"pipeline: preparing and submitting {CASES} cases", file=sys.stderr)
        prepare_s = asyncio.run(submit_cases(stack, CASES))
        print(f"pipeline: {CASES} cases submitted in {prepare_s:.0f} s; starting {WORKERS} workers", file=sys.stderr)
        asyncio.run(statements(stack, os.environ.get("BENCH_PROFILE")))
        stack.start_workers(WORKERS)
        roles = stack.roles()
        sampler = MemorySampler({"api": roles["api"], "worker": roles["worker"]})
        cpu_before = {
            role: cpu_seconds([p for root in roots for p in process_tree(root)]) for role, roots in roles.items()
        }
        sampler.start()
        api_pids = process_tree(api.proc.pid)
        profilers = profile(
            [*(api_pids[1:] or api_pids), *(w.proc.pid for w in stack.workers), stack.sandbox.proc.pid]
        )  # the server processes, not their supervisor
        elapsed, outcome = asyncio.run(wait_closed(stack, CASES))
        cpu = {
            role: round(cpu_seconds([p for root in roots for p in process_tree(root)]) - cpu_before[role], 1)
            for role, roots in roles.items()
        }
        for p in profilers:
            p.wait(60)
        sampler.stop_event.set()
        sampler.join()
        stats = stack.sim_stats()
        asyncio.run(statements(stack, os.environ.get("BENCH_PROFILE"), sum(s["submissions"] for s in stats)))
        time.sleep(0.5)
    completed = outcome["case_statuses"].get("completed", 0)
    sent = sum(s["submissions"] for s in stats)
    result = {
        "config": {
            "cases": CASES,
            "workers": WORKERS,
            "api_processes": API_PROCESSES,
            "simulated_processing_seconds": 0,
            "agency_protocol": os.environ.get("BENCH_PROTOCOL", "lean"),
        },
        "prepare_and_submit_s": round(prepare_s, 1),
        "pipeline_s": round(elapsed, 1),
        "cases_per_s": round(CASES / elapsed, 1),
        "agency_submissions": sent,
        "agency_submissions_per_s": round(sent / elapsed, 1),
        "callbacks_delivered": sum(s["callbacks_delivered"] for s in stats),
        "callback_requests": sum(s.get("batches_delivered", 0) for s in stats)
        or sum(s["callbacks_delivered"] for s in stats),  # lean form: events travel in batches
        "duplicates": sum(s["duplicates"] for s in stats),
        **outcome,
        "peak_rss_mb": {role: round(mb, 1) for role, mb in sampler.peak.items()},
        "cpu_seconds_by_role": cpu,
        "cpu_ms_per_agency_submission": {
            role: round(1000 * seconds / max(sent, 1), 2) for role, seconds in cpu.items()
        },
    }
    platform_ms = round(
        sum(result["cpu_ms_per_agency_submission"][role] for role in ("api", "worker", "postgresql", "redis")), 2
    )
    result["platform_cpu_ms_per_agency_submission"] = platform_ms
    result["targets"] = [
        target(
            f"{CASES} cases through the simulators with {WORKERS} workers (agencies on the same cores)",
            result["pipeline_s"],
            round(CASES * 0.12),
            unit=" s",
        ),
        target("every case completed", completed, CASES, at_least=True),
        target("no item sent twice", result["duplicates"], 0),
        target("no dead jobs", outcome["dead_jobs"], 0),
        target("API process peak memory", result["peak_rss_mb"]["api"], 150, unit=" MB"),
    ]
    return result
