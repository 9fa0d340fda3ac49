"""Throwaway servers for tests: PostgreSQL, Redis and the platform itself, on loopback.

Each listens on 127.0.0.1 on a free port and is stopped (and its files removed) by the
test session that started it. PostgreSQL refuses to run as root, so as root it runs as
the ``postgres`` user.
"""

from __future__ import annotations

import glob
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parent.parent


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def wait_for(probe, what: str, timeout: float = 30.0) -> None:
    deadline = time.monotonic() + timeout
    last: Exception | None = None
    while time.monotonic() < deadline:
        try:
            if probe():
                return
        except Exception as exc:  # not up yet
            last = exc
        time.sleep(0.1)
    raise RuntimeError(f"{what} did not come up in {timeout:.0f}s: {last!r}")


def _pg_bin() -> Path:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/pg_ctl"))
    if found:
        return Path(found[-1]).parent
    which = shutil.which("pg_ctl")
    if which:
        return Path(which).parent
    raise RuntimeError("PostgreSQL binaries not found; run `make test` (it installs them)")


class PostgresServer:
    """A private PostgreSQL cluster in a temporary folder; can be stopped and restarted."""

    def __init__(self) -> None:
        self.bin = _pg_bin()
        self.dir = Path(tempfile.mkdtemp(prefix="pg.", dir="/tmp"))
        self.port = free_port()
        self.as_root = os.geteuid() == 0
        if self.as_root:
            shutil.chown(self.dir, "postgres", "postgres")
        self._run(
            "initdb",
            "-D",
            str(self.dir / "data"),
            "-U",
            "postgres",
            "-A",
            "trust",
            "--no-sync",
            "-E",
            "UTF8",
            "--locale=C.UTF-8",
        )

    def _run(self, tool: str, *args: str) -> None:
        cmd = [str(self.bin / tool), *args]
        if self.as_root:
            cmd = ["runuser", "-u", "postgres", "--", *cmd]
        subprocess.run(cmd, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)

    @property
    def url(self) -> str:
        return f"postgres://postgres@127.0.0.1:{self.port}/postgres"

    def start(self, *extra: str) -> None:
        """Start on loopback; ``extra``: more ``-c name=value`` settings (the benchmarks' statement statistics)."""
        options = (
            f"-c listen_addresses=127.0.0.1 -p {self.port} -k {self.dir} -c fsync=off "
            "-c synchronous_commit=off -c full_page_writes=off -c max_connections=300"
        ) + "".join(f" -c {setting}" for setting in extra)
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-l", str(self.dir / "log"), "-w", "-o", options, "start")

    def stop(self, mode: str = "fast") -> None:
        self._run("pg_ctl", "-D", str(self.dir / "data"), "-m", mode, "-w", "stop")

    def destroy(self) -> None:
        try:
            self.stop("immediate")
        except subprocess.CalledProcessError:
            pass
        shutil.rmtree(self.dir, ignore_errors=True)


class RedisServer:
    """A private redis-server without persistence; can be stopped and restarted on its port."""

    def __init__(self) -> None:
        self.exe = shutil.which("redis-server") or "/usr/bin/redis-server"
        self.port = free_port()
        self.dir = Path(tempfile.mkdtemp(prefix="redis."))
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"redis://127.0.0.1:{self.port}/0"

    def start(self) -> None:
        self.proc = subprocess.Popen(
            [
                self.exe,
                "--bind",
                "127.0.0.1",
                "--port",
                str(self.port),
                "--save",
                "",
                "--appendonly",
                "no",
                "--dir",
                str(self.dir),
            ],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def ping() -> bool:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as sock:
                sock.sendall(b"PING\r\n")
                return sock.recv(16).startswith(b"+PONG")

        wait_for(ping, "redis-server")

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(10)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)


def clear_rate_limits(redis_url: str) -> None:
    """Forget the identity rate-limit counters kept in Redis (a fresh window for the next test)."""
    import redis

    client = redis.Redis.from_url(redis_url)
    try:
        keys = list(client.scan_iter("yjs:identity_*"))
        if keys:
            client.delete(*keys)
    finally:
        client.close()


def backend_env(**settings: str) -> dict[str, str]:
    """The environment for a platform subprocess: ours, minus mode switches, plus ``settings``.

    Test harnesses run production processes on loopback with the test environment, plain http
    and keys made on first use, which production refuses (``backend.preflight``): they allow it
    explicitly unless a test passes ``unsafe_allow_test_settings="false"`` to prove the real checks.
    """
    env = {k: v for k, v in os.environ.items() if k not in {"DATABASE_URL", "REDIS_URL", "PORT", "HOST", "DATA_DIR"}}
    env["PYTHONPATH"] = str(ROOT)
    env["UNSAFE_ALLOW_TEST_SETTINGS"] = "true"
    env.update({k.upper(): v for k, v in settings.items()})
    return env


def run_migrations(**settings: str) -> None:
    subprocess.run(
        [sys.executable, "-m", "backend", "migrate"],
        cwd=ROOT,
        env=backend_env(**settings),
        check=True,
        capture_output=True,
    )


def requires_server(what: str) -> None:
    """Fail a test that starts ``what`` during ``make unit`` (UNIT_ONLY=1): its markers are wrong."""
    if os.environ.get("UNIT_ONLY"):
        import pytest

        pytest.fail(f"this test starts {what} but has no postgres/redis/slow/e2e marker (see conftest.py)")


class PlatformProcess:
    """``python -m backend <command>`` as a child process, logs to a file."""

    def __init__(self, command: str, log_dir: Path, **settings: str) -> None:
        self.command = command
        self.settings = settings
        self.port = int(settings.get("port") or free_port())
        self.settings["port"] = str(self.port)
        self.log_path = log_dir / f"{command}-{self.port}.log"
        self.proc: subprocess.Popen | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}"

    def start(self, wait: bool = True) -> None:
        requires_server(f"python -m backend {self.command}")
        log = open(self.log_path, "ab")
        self.proc = subprocess.Popen(
            [sys.executable, "-m", "backend", self.command],
            cwd=ROOT,
            env=backend_env(**self.settings),
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
        if wait and self.command in {"run", "api"}:
            wait_for(
                lambda: httpx.get(self.url + "/healthz", timeout=1).status_code == 200, f"backend {self.command}", 60
            )

    def signal(self, sig: int) -> None:
        if self.proc and self.proc.poll() is None:
            os.killpg(self.proc.pid, sig)

    def stop(self, timeout: float = 15) -> int | None:
        if self.proc is None:
            return None
        if self.proc.poll() is None:
            self.signal(signal.SIGTERM)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.signal(signal.SIGKILL)
                self.proc.wait(5)
        return self.proc.returncode

    def log(self) -> str:
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""
