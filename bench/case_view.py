"""The read behind the case page (issue 22): ``GET /api/v1/cases/{id}`` for submitted ten-item
cases at 50 connections (wrk), beside the cheap status read and a bare Litestar endpoint measured
in the same run. Production mode on PostgreSQL and Redis, the API alone (no workers).

Target: the case view's p99 ≤ 50 ms at 50 connections (it was 158 ms, against 16 ms for the
status read, before the view was kept like the status).
"""

from __future__ import annotations

import asyncio
import os

from bench.api import API_PROCESSES, APPLICANTS, READ_CONNECTIONS, prepare
from bench.harness import ROOT, bare_litestar, production_stack, target, wrk

READ_SECONDS = int(os.environ.get("BENCH_READ_SECONDS", "15"))
READ_CASES = int(os.environ.get("BENCH_VIEW_CASES", "40"))


def run() -> dict:
    with production_stack() as stack:
        stack.start_api(API_PROCESSES)
        cases = asyncio.run(prepare(stack, READ_CASES, submit=True))
        tokens = {persona: stack.token(persona) for _, _, persona in APPLICANTS}
        targets_file = stack.work / "targets.txt"
        reads: dict = {}
        for name, path in [("case_view", "/api/v1/cases/{id}"), ("status", "/api/v1/cases/{id}/status")]:
            targets_file.write_text("".join(f"{path.format(id=c)} {tokens[p]}\n" for c, p in cases))
            env = {"BENCH_TARGETS": str(targets_file)}
            wrk(stack.api.url, connections=READ_CONNECTIONS, seconds=3, script=ROOT / "bench" / "rotate.lua", env=env)
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
        reads["case_view_to_bare_ratio"] = round(
            reads["case_view"]["requests_per_s"] / reads["bare_litestar"]["requests_per_s"], 3
        )
    view = reads["case_view"]
    return {
        "config": {
            "api_processes": API_PROCESSES,
            "read_connections": READ_CONNECTIONS,
            "read_seconds": READ_SECONDS,
            "cases": READ_CASES,
        },
        "reads": reads,
        "targets": [
            target("case view p99 at 50 connections", view.get("p99_ms", float("inf")), 50, unit=" ms"),
            target("case view reads without errors", view["non_2xx"] + view["socket_errors"], 0),
        ],
    }
