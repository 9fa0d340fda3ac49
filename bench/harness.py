"""The production stack for benchmarks, on loopback: PostgreSQL, Redis, the test environment
(simulated agency systems, zero processing time) as its own process, the API and workers as
``python -m backend api|worker`` processes — the same commands a deployment runs."""

from __future__ import annotations

import asyncio
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
from contextlib import contextmanager
from pathlib import Path

import httpx

from tests.servers import (
    ROOT,
    PlatformProcess,
    PostgresServer,
    RedisServer,
    backend_env,
    free_port,
    run_migrations,
    spawn,
    wait_for,
)

LOGS = ROOT / "bench" / "results" / "logs"


class TestEnvironment:
    """``python -m backend.sandbox`` trusting the platform's signing key."""

    def __init__(self, work: Path, processing_seconds: float = 0) -> None:
        from backend.integration import PLATFORM_CLIENT_ID, platform_jwks
        from backend.settings import load_settings

        self.key_file = work / "platform.jwk.json"
        jwks = work / "platform.jwks.json"
        # both rings (ES256 and SM2): the systems on SM2 verify the platform's SM2 signatures
        jwks.write_text(json.dumps(platform_jwks(load_settings(env={}, signing_key_file=str(self.key_file)))))
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        self.args = [
            sys.executable,
            "-m",
            "backend.sandbox",
            "--port",
            str(self.port),
            "--processing-seconds",
            str(processing_seconds),
            "--trust",
            f"{PLATFORM_CLIENT_ID}={jwks}",
            # BENCH_PROTOCOL=classic: the agencies use the interface standard's classic form (an
            # accepted callback, one callback per event) instead of the lean one (the default)
            *(["--classic"] if os.environ.get("BENCH_PROTOCOL") == "classic" else []),
        ]
        self.proc: subprocess.Popen | None = None

    def start(self) -> None:
        self.proc = spawn(self.args, LOGS / f"sandbox-{self.port}.log", env=backend_env())
        wait_for(
            lambda: httpx.get(self.url + "/sim/etax/.well-known/jwks.json", timeout=1).status_code == 200,
            "test environment",
        )

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)


class Stack:
    """Everything a production deployment runs; ``settings`` is what the processes get."""

    def __init__(self, work: Path) -> None:
        self.work = work
        self.pg = PostgresServer()
        self.redis = RedisServer()
        self.sandbox = TestEnvironment(work)
        self.api: PlatformProcess | None = None
        self.workers: list[PlatformProcess] = []
        self.settings: dict[str, str] = {}

    def start(self) -> None:
        # BENCH_PROFILE also counts every statement PostgreSQL runs (bench/pipeline.py writes them out)
        self.pg.start(
            *(
                [
                    "shared_preload_libraries=pg_stat_statements",
                    "pg_stat_statements.track=all",
                    "pg_stat_statements.track_planning=on",
                ]
                if os.environ.get("BENCH_PROFILE")
                else []
            )
        )
        self.redis.start()
        run_migrations(database_url=self.pg.url)
        self.sandbox.start()
        self.api_port = free_port()
        self.settings = dict(
            database_url=self.pg.url,
            redis_url=self.redis.url,
            test_env="true",
            connector_base_url=self.sandbox.url + "/sim",
            signing_key_file=str(self.sandbox.key_file),
            public_url=f"http://127.0.0.1:{self.api_port}",
            data_dir=str(self.work),
            log_level="WARNING",
            log_format="json",
            worker_idle_seconds="5",
        )

    def start_api(self, processes: int) -> PlatformProcess:
        self.api = PlatformProcess("api", LOGS, port=str(self.api_port), api_processes=str(processes), **self.settings)
        self.api.start()
        return self.api

    def start_workers(self, n: int) -> None:
        for _ in range(n):
            worker = PlatformProcess("worker", LOGS, **self.settings)
            worker.start(wait=False)
            self.workers.append(worker)

    def stop_workers(self) -> None:
        for worker in self.workers:
            worker.stop()
        self.workers = []

    def stop(self) -> None:
        self.stop_workers()
        if self.api:
            self.api.stop()
        self.sandbox.stop()
        self.redis.destroy()
        self.pg.destroy()

    def token(self, persona: str) -> str:
        answer = httpx.post(self.api.url + "/sandbox/token", json={"persona": persona}, timeout=10)
        answer.raise_for_status()
        return answer.json()["access_token"]

    def roles(self) -> dict[str, list[int]]:
        """Root process ids per role, for memory and CPU accounting."""
        postmaster = int((self.pg.dir / "data" / "postmaster.pid").read_text().split()[0])
        return {
            "api": [self.api.proc.pid] if self.api else [],
            "worker": [w.proc.pid for w in self.workers],
            "test_environment": [self.sandbox.proc.pid],
            "postgresql": [postmaster],
            "redis": [self.redis.proc.pid],
        }

    def sim_stats(self) -> list[dict]:
        """Counters of every simulated agency system (submissions, duplicates, callbacks ...)."""
        return [s["stats"] for s in httpx.get(self.sandbox.url + "/sandbox/simulators", timeout=10).json()]


@contextmanager
def production_stack():
    LOGS.mkdir(parents=True, exist_ok=True)
    work = Path(tempfile.mkdtemp(prefix="bench."))
    stack = Stack(work)
    try:
        stack.start()
        yield stack
    finally:
        stack.stop()
        shutil.rmtree(work, ignore_errors=True)


@contextmanager
def bare_litestar(processes: int):
    """The bare Litestar endpoints (bench/bare.py) under the same uvicorn settings as the API."""
    port = free_port()
    proc = spawn(
        [sys.executable, "-m", "uvicorn", "bench.bare:app", "--host", "127.0.0.1", "--port", str(port),
         "--workers", str(processes), "--no-access-log", "--log-level", "warning"],
        LOGS / f"bare-{port}.log",
        env=backend_env(),
        start_new_session=True,
    )  # fmt: skip
    url = f"http://127.0.0.1:{port}"
    try:
        wait_for(lambda: httpx.get(url + "/bare/status", timeout=1).status_code == 200, "bare litestar")
        yield url
    finally:
        import os
        import signal

        os.killpg(proc.pid, signal.SIGTERM)
        proc.wait(15)


WRK_LINE = re.compile(r"^\s*(50|75|90|99)%\s+([\d.]+)(us|ms|s)\s*$", re.M)


def wrk(
    url: str, *, connections: int, seconds: int, threads: int = 2, script: Path | None = None, env: dict | None = None
) -> dict:
    """Run wrk with latency percentiles; returns requests/s, percentiles (ms), errors."""
    import os

    args = ["wrk", f"-t{threads}", f"-c{connections}", f"-d{seconds}s", "--latency", "--timeout", "5s"]
    if script:
        args += ["-s", str(script)]
    out = subprocess.run(
        [*args, url], capture_output=True, text=True, check=True, env={**os.environ, **(env or {})}
    ).stdout
    scale = {"us": 0.001, "ms": 1.0, "s": 1000.0}
    pct = {f"p{m.group(1)}_ms": round(float(m.group(2)) * scale[m.group(3)], 2) for m in WRK_LINE.finditer(out)}
    rps = float(re.search(r"Requests/sec:\s+([\d.]+)", out).group(1))
    non2xx = re.search(r"Non-2xx or 3xx responses:\s+(\d+)", out)
    errors = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    return {
        "requests_per_s": round(rps, 1),
        **pct,
        "non_2xx": int(non2xx.group(1)) if non2xx else 0,
        "socket_errors": sum(int(g) for g in errors.groups()) if errors else 0,
    }


def percentile(values: list[float], p: float) -> float:
    ordered = sorted(values)
    if not ordered:
        return float("nan")
    k = max(0, min(len(ordered) - 1, round(p / 100 * len(ordered) + 0.5) - 1))
    return ordered[k]


def rss_mb(pid: int) -> tuple[float, float]:
    """(current, peak) resident memory of one process in MB."""
    fields = dict(line.split(":", 1) for line in Path(f"/proc/{pid}/status").read_text().splitlines() if ":" in line)
    return int(fields["VmRSS"].split()[0]) / 1024, int(fields["VmHWM"].split()[0]) / 1024


def cpu_seconds(pids: list[int]) -> float:
    """User + system CPU time the processes have used so far."""
    ticks = os.sysconf("SC_CLK_TCK")
    total = 0.0
    for pid in pids:
        try:
            fields = Path(f"/proc/{pid}/stat").read_text().rpartition(")")[2].split()
        except FileNotFoundError:
            continue
        total += (int(fields[11]) + int(fields[12])) / ticks  # utime, stime
    return total


def process_tree(pid: int) -> list[int]:
    """``pid`` and its descendants (uvicorn's supervisor and its worker processes)."""
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout.split()
    return [pid] + [p for child in out for p in process_tree(int(child))]


def target(name: str, value, limit, *, at_least: bool = False, unit: str = "") -> dict:
    met = value >= limit if at_least else value <= limit
    return {"name": name, "value": value, "target": f"{'≥' if at_least else '≤'} {limit}{unit}", "met": bool(met)}


async def gather_limited(n: int, limit: int, make):
    """Run ``make(i)`` for i in range(n), at most ``limit`` at a time; results in order."""
    gate = asyncio.Semaphore(limit)

    async def one(i):
        async with gate:
            return await make(i)

    return await asyncio.gather(*(one(i) for i in range(n)))


def now() -> float:
    return time.perf_counter()
