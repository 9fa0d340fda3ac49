"""API throughput and latency at fixed concurrency, beside a bare Litestar endpoint measured in
the same run: case-status reads (wrk, 50 connections) and submissions (asyncio client), plus
the dispatch lag from submission to the first agency request. Production mode on PostgreSQL.

Targets (issue 10): status reads ≥ ½ the bare endpoint's throughput with p99 ≤ 25 ms;
submissions p99 ≤ 100 ms; dispatch lag p99 ≤ 0.5 s.
"""

from __future__ import annotations

import asyncio
import os
import time
import uuid
from urllib.parse import urlsplit

import httpx

from bench.harness import ROOT, bare_litestar, gather_limited, now, percentile, production_stack, target, wrk

API_PROCESSES = int(os.environ.get("BENCH_API_PROCESSES", "2"))
WORKERS = int(os.environ.get("BENCH_WORKERS", "2"))
READ_CONNECTIONS = 50
READ_SECONDS = int(os.environ.get("BENCH_READ_SECONDS", "15"))
READ_CASES = 40
SUBMISSIONS = int(os.environ.get("BENCH_SUBMISSIONS", "300"))
SUBMIT_CONCURRENCY = 10
SUBMIT_WARMUP = 30  # submissions before the measured ones: every pooled connection has prepared its statements
LAG_CASES = int(os.environ.get("BENCH_LAG_CASES", "60"))
LAG_RATE = 2.0  # submissions per second while the dispatch lag is measured
APPLICANTS = [("91350102MA0102003U", "P002", "applicant-p002"), ("91350128MA0428396P", "P010", "applicant-p010")]


async def prepare(stack, n: int, *, submit: bool) -> list[tuple[str, str]]:
    """``n`` complete drafts (optionally submitted) made the way an applicant would, in this process."""
    from backend import db
    from backend.app import build_platform
    from backend.identity.actor import Actor
    from backend.settings import load_settings
    from tests.cases.support import complete_draft

    settings = load_settings(env={}, **{k: v for k, v in stack.settings.items() if k != "test_env"}, test_env=True)
    platform = build_platform(settings)
    db.bind(platform.engine)
    await db.start(platform.engine, settings)
    try:

        async def one(i: int) -> tuple[str, str]:
            uscc, person, persona = APPLICANTS[i % len(APPLICANTS)]
            draft = await complete_draft(platform, Actor(id=person), uscc=uscc)
            if submit:
                await platform.cases.submit(Actor(id=person), draft.id, f"bench-read-{draft.id}")
            return draft.id, persona

        return await gather_limited(n, 8, one)
    finally:
        for connector in platform.connectors.values():
            await connector.aclose()
        await db.stop(platform.engine)


async def post_many(urls: list[tuple[str, dict]], concurrency: int) -> tuple[list[float], float, int]:
    """POST each (url, headers) once over ``concurrency`` keep-alive connections; (latencies in
    ms, seconds, non-2xx). A minimal HTTP/1.1 client on asyncio streams: on two cores the load
    generator shares the CPU with what it measures, and httpx cost ~1.5 ms of it per request
    (as much as a third of a submission); this costs a tenth of that. Reads use wrk for the same reason."""
    latencies: list[float] = []
    failures = 0
    pending = iter(urls)

    async def connection() -> None:
        nonlocal failures
        reader = writer = None
        try:
            for url, headers in pending:
                parts = urlsplit(url)
                if writer is None:
                    reader, writer = await asyncio.open_connection(parts.hostname, parts.port)
                head = "".join(f"{k}: {v}\r\n" for k, v in headers.items())
                started = now()
                writer.write(
                    (
                        f"POST {parts.path} HTTP/1.1\r\nHost: {parts.netloc}\r\n{head}"
                        "Content-Type: application/json\r\nContent-Length: 2\r\n\r\n{}"
                    ).encode()
                )
                status_line, _, rest = (await reader.readuntil(b"\r\n\r\n")).partition(b"\r\n")
                length = int(
                    next(
                        line.split(b":", 1)[1]
                        for line in rest.split(b"\r\n")
                        if line.lower().startswith(b"content-length:")
                    )
                )
                await reader.readexactly(length)
                latencies.append((now() - started) * 1000)
                failures += int(status_line.split()[1]) >= 300
        finally:
            if writer is not None:
                writer.close()

    started = now()
    await asyncio.gather(*(connection() for _ in range(concurrency)))
    return latencies, now() - started, failures


async def post_paced(urls: list[tuple[str, dict]], rate: float) -> None:
    """POST each (url, headers) once, starting one every 1/rate seconds."""
    async with httpx.AsyncClient(timeout=30) as client:

        async def one(url: str, headers: dict) -> None:
            answer = await client.post(url, headers=headers, json={})
            answer.raise_for_status()

        tasks = []
        for url, headers in urls:
            tasks.append(asyncio.create_task(one(url, headers)))
            await asyncio.sleep(1 / rate)
        await asyncio.gather(*tasks)


def summary(latencies: list[float], seconds: float, failures: int) -> dict:
    return {
        "requests": len(latencies),
        "requests_per_s": round(len(latencies) / seconds, 1),
        "failures": failures,
        **{f"p{p}_ms": round(percentile(latencies, p), 2) for p in (50, 90, 99)},
    }


async def dispatch_lags(stack, ids: list[str]) -> list[float]:
    """Seconds from each case's submission to its first item accepted by an agency system."""
    import asyncpg

    conn = await asyncpg.connect(stack.pg.url)
    try:
        for _ in range(120):
            rows = await conn.fetch(
                "SELECT f.public_id, f.submitted_at, min(i.sent_at) AS first_sent FROM case_file f JOIN case_item i ON "
                "i.case_file = f.id "
                "WHERE f.public_id = any($1::text[]) GROUP BY f.public_id, f.submitted_at",
                ids,
            )
            if len(rows) == len(ids) and all(r["first_sent"] for r in rows):
                return [(r["first_sent"] - r["submitted_at"]) / 1000 for r in rows]
            await asyncio.sleep(1)
        raise RuntimeError("not every case reached an agency within 120 s")
    finally:
        await conn.close()


async def quiet(stack, seconds: float = 2.0, limit: float = 60.0) -> None:
    """Wait until the timeline has not grown for ``seconds``: the simulators' callbacks for items
    sent during the dispatch-lag phase would otherwise land in the submissions' measurement."""
    import asyncpg

    conn = await asyncpg.connect(stack.pg.url)
    try:
        last, since, deadline = None, now(), now() + limit
        while now() < deadline:
            count = await conn.fetchval("SELECT count(*) FROM case_event")
            if count != last:
                last, since = count, now()
            elif now() - since >= seconds:
                return
            await asyncio.sleep(0.2)
    finally:
        await conn.close()


def run() -> dict:
    with production_stack() as stack:
        stack.start_api(API_PROCESSES)
        read_cases = asyncio.run(prepare(stack, READ_CASES, submit=True))
        tokens = {persona: stack.token(persona) for _, _, persona in APPLICANTS}
        targets_file = stack.work / "targets.txt"
        results: dict = {
            "config": {
                "api_processes": API_PROCESSES,
                "workers": WORKERS,
                "read_connections": READ_CONNECTIONS,
                "read_seconds": READ_SECONDS,
                "read_cases": READ_CASES,
                "submissions": SUBMISSIONS,
                "submit_concurrency": SUBMIT_CONCURRENCY,
                "submit_warmup": SUBMIT_WARMUP,
                "lag_cases": LAG_CASES,
                "lag_submissions_per_s": LAG_RATE,
                "load_generator": "wrk 4.1 (2 threads) for reads; a minimal asyncio HTTP/1.1 client (bench/api.py "
                "post_many) for submissions",
            }
        }

        reads = {}
        for name, path in [("status", "/api/v1/cases/{id}/status"), ("full_view", "/api/v1/cases/{id}")]:
            targets_file.write_text(
                "".join(f"{path.format(id=case_id)} {tokens[persona]}\n" for case_id, persona in read_cases)
            )
            env = {"BENCH_TARGETS": str(targets_file)}
            wrk(
                stack.api.url, connections=READ_CONNECTIONS, seconds=3, script=ROOT / "bench" / "rotate.lua", env=env
            )  # warm-up
            reads[name] = wrk(
                stack.api.url,
                connections=READ_CONNECTIONS,
                seconds=READ_SECONDS,
                script=ROOT / "bench" / "rotate.lua",
                env=env,
            )
        with bare_litestar(API_PROCESSES) as bare_url:
            wrk(bare_url + "/bare/status", connections=READ_CONNECTIONS, seconds=3)
            reads["bare_litestar"] = wrk(bare_url + "/bare/status", connections=READ_CONNECTIONS, seconds=READ_SECONDS)
            asyncio.run(post_many([(bare_url + "/bare/submit", {})] * SUBMIT_WARMUP, SUBMIT_CONCURRENCY))
            bare_submit = asyncio.run(post_many([(bare_url + "/bare/submit", {})] * SUBMISSIONS, SUBMIT_CONCURRENCY))
        reads["status_to_bare_ratio"] = round(
            reads["status"]["requests_per_s"] / reads["bare_litestar"]["requests_per_s"], 3
        )
        results["reads"] = reads

        drafts = asyncio.run(prepare(stack, SUBMISSIONS + LAG_CASES + SUBMIT_WARMUP, submit=False))
        tokens = {persona: stack.token(persona) for _, _, persona in APPLICANTS}
        urls = [
            (
                f"{stack.api.url}/api/v1/cases/{case_id}/submit",
                {"Authorization": f"Bearer {tokens[persona]}", "Idempotency-Key": str(uuid.uuid4())},
            )
            for case_id, persona in drafts
        ]
        # dispatch lag with the workers waiting for work: submissions at a steady pace, as applicants send them
        stack.start_workers(WORKERS)
        time.sleep(3)  # the workers are up and listening for wake-ups
        asyncio.run(post_paced(urls[:LAG_CASES], LAG_RATE))
        lags = asyncio.run(dispatch_lags(stack, [case_id for case_id, _ in drafts[:LAG_CASES]]))
        stack.stop_workers()
        asyncio.run(quiet(stack))  # the agencies' callbacks for what the workers sent are in
        # submissions: the API alone (workers on the same 2 cores would compete with it)
        asyncio.run(post_many(urls[LAG_CASES : LAG_CASES + SUBMIT_WARMUP], SUBMIT_CONCURRENCY))
        submitted = asyncio.run(post_many(urls[LAG_CASES + SUBMIT_WARMUP :], SUBMIT_CONCURRENCY))
        submissions = {"platform": summary(*submitted), "bare_litestar": summary(*bare_submit)}
        submissions["throughput_ratio"] = round(
            submissions["platform"]["requests_per_s"] / submissions["bare_litestar"]["requests_per_s"], 3
        )
        results["submissions"] = submissions
        results["dispatch_lag_s"] = (
            {"cases": len(lags), "submissions_per_s": LAG_RATE}
            | {f"p{p}": round(percentile(lags, p), 3) for p in (50, 90, 99)}
            | {"max": round(max(lags), 3)}
        )

    status = reads["status"]
    results["targets"] = [
        target("status reads / bare Litestar throughput", reads["status_to_bare_ratio"], 0.5, at_least=True),
        target("status read p99 at 50 connections", status.get("p99_ms", float("inf")), 25, unit=" ms"),
        target("status reads without errors", status["non_2xx"] + status["socket_errors"], 0),
        target("submission p99", submissions["platform"]["p99_ms"], 100, unit=" ms"),
        target("submissions without errors", submissions["platform"]["failures"], 0),
        target("dispatch lag p99", results["dispatch_lag_s"]["p99"], 0.5, unit=" s"),
    ]
    return results
