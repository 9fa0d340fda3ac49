"""Throwaway servers for tests: PostgreSQL, Redis and the platform itself, on loopback.

Each listens on 127.0.0.1 on a free port and is stopped (and its files removed) by the
test session that started it. PostgreSQL refuses to run as root, so as root it runs as
the ``postgres`` user.
"""

from __future__ import annotations

import contextlib
import glob
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
from pathlib import Path
from typing import Any

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
        with contextlib.suppress(subprocess.CalledProcessError):
            self.stop("immediate")
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


async def fresh_database(pg_url: str, name: str) -> str:
    """An empty database ``name`` (dropped first if there) on ``pg_url``'s server: its URL."""
    import asyncpg

    admin = await asyncpg.connect(pg_url)
    try:
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}"')
        await admin.execute(f'CREATE DATABASE "{name}"')
    finally:
        await admin.close()
    return pg_url.rsplit("/", 1)[0] + "/" + name


def requires_server(what: str) -> None:
    """Fail a test that starts ``what`` during ``make unit`` (UNIT_ONLY=1): its markers are wrong."""
    if os.environ.get("UNIT_ONLY"):
        import pytest

        pytest.fail(f"this test starts {what} but has no postgres/redis/slow/e2e marker (see conftest.py)")


def spawn(command: list[str], log_path: Path, **popen: Any) -> subprocess.Popen:
    """``command`` as a child process in the repository, its output appended to ``log_path``. The
    child has its own copy of the log's descriptor: ours is closed at once, not left to the garbage
    collector (whose ResourceWarning once failed a PDF/A validation, tests/identity/test_pdf.py)."""
    with open(log_path, "ab") as log:
        return subprocess.Popen(command, cwd=ROOT, stdout=log, stderr=subprocess.STDOUT, **popen)


def sandbox_command(port: int, trust: str, *options: str) -> list[str]:
    """``python -m backend.sandbox`` alone on ``port``, agencies answering at once, trusting
    ``trust`` (``client_id=jwks file``), with further ``options``."""
    return [sys.executable, "-m", "backend.sandbox", "--port", str(port), "--processing-seconds", "0", "--trust", trust,
            *options]  # fmt: skip


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
        self.proc = spawn(
            [sys.executable, "-m", "backend", self.command],
            self.log_path,
            env=backend_env(**self.settings),
            start_new_session=True,
        )
        if wait and self.command in {"run", "api"}:
            wait_for(
                lambda: httpx.get(self.url + "/healthz", timeout=1).status_code == 200, f"backend {self.command}", 60
            )
        elif wait and self.command == "worker":
            self.wait_started()

    def wait_started(self, timeout: float = 60) -> None:
        """Until a worker has connected and begun to claim jobs (its log says so); raises if it exited."""

        def started() -> bool:
            assert self.proc is not None and self.proc.poll() is None, f"worker exited: {self.log()[-3000:]}"
            return "worker started" in self.log()

        wait_for(started, f"python -m backend {self.command}", timeout)

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


def make_certificate(directory: Path, *names: str) -> tuple[Path, Path]:
    """A self-signed certificate (its own CA: tests trust it with ``verify=cert``) for ``names``; (cert, key)."""
    cert, key = directory / "tls.crt", directory / "tls.key"
    alt = ",".join(f"IP:{n}" if n.replace(".", "").isdigit() else f"DNS:{n}" for n in names)
    subprocess.run(
        [
            "openssl",
            "req",
            "-x509",
            "-newkey",
            "ec",
            "-pkeyopt",
            "ec_paramgen_curve:prime256v1",
            "-nodes",
            "-days",
            "2",
            "-subj",
            f"/CN={names[0]}",
            "-addext",
            f"subjectAltName={alt}",
            "-addext",
            "basicConstraints=critical,CA:TRUE",
            "-keyout",
            str(key),
            "-out",
            str(cert),
        ],
        check=True,
        capture_output=True,
    )
    return cert, key


def render_template(template: str, values: dict[str, str]) -> str:
    """``${NAME}`` placeholders filled as envsubst fills them (nginx's own ``$variables`` stay)."""
    for name, value in values.items():
        template = template.replace("${" + name + "}", value)
    left = sorted(set(re.findall(r"\$\{(YJS_[A-Z_]+)\}", template)))
    if left:
        raise ValueError(f"placeholders without a value: {left}")
    return template


class NginxServer:
    """Debian's nginx as an unprivileged-looking process: a private prefix, our site config
    (``infra/nginx.conf`` rendered for loopback ports), logs in its folder."""

    def __init__(self, site_values: dict[str, str], template: Path = ROOT / "infra" / "nginx.conf") -> None:
        self.exe = shutil.which("nginx") or "/usr/sbin/nginx"
        self.dir = Path(tempfile.mkdtemp(prefix="nginx."))
        site_values = {"YJS_ACCESS_LOG": f"{self.dir}/yjs.access.log", **site_values}
        self.site = render_template(template.read_text(), site_values)
        self.proc: subprocess.Popen | None = None
        d = self.dir
        for temp in ("client_body", "proxy", "fastcgi", "uwsgi", "scgi"):
            (d / temp).mkdir()
        (d / "yjs.conf").write_text(self.site)
        user = "user root;\n" if os.geteuid() == 0 else ""  # workers read nothing outside this folder
        (d / "nginx.conf").write_text(
            f"{user}worker_processes 1;\npid {d}/nginx.pid;\nerror_log {d}/error.log warn;\ndaemon off;\n"
            "events { worker_connections 512; }\n"
            "http {\n  include /etc/nginx/mime.types;\n"
            f"  access_log {d}/access.log;\n"
            + "".join(f"  {kind}_temp_path {d}/{kind};\n" for kind in ("proxy", "fastcgi", "uwsgi", "scgi"))
            + f"  client_body_temp_path {d}/client_body;\n  include {d}/yjs.conf;\n}}\n"
        )

    def check(self) -> None:
        """``nginx -t``: the rendered configuration is valid."""
        result = subprocess.run(
            [
                self.exe,
                "-t",
                "-p",
                str(self.dir),
                "-c",
                str(self.dir / "nginx.conf"),
                "-e",
                str(self.dir / "error.log"),
            ],
            capture_output=True,
            text=True,
        )
        if result.returncode != 0:
            raise RuntimeError(f"nginx -t failed:\n{result.stderr}")

    def start(self, port: int) -> None:
        """Start and wait until ``port`` (one of the config's listen ports) accepts connections."""
        self.check()
        self.proc = subprocess.Popen(
            [self.exe, "-p", str(self.dir), "-c", str(self.dir / "nginx.conf"), "-e", str(self.dir / "error.log")],
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )

        def accepting() -> bool:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                return True

        wait_for(accepting, "nginx")

    def pids(self) -> list[int]:
        """The master and its workers."""
        if not self.proc:
            return []
        children = Path(f"/proc/{self.proc.pid}/task/{self.proc.pid}/children").read_text().split()
        return [self.proc.pid, *map(int, children)]

    def stop(self) -> None:
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(signal.SIGQUIT)  # graceful: finish the requests in flight
            try:
                self.proc.wait(10)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait(5)

    def destroy(self) -> None:
        self.stop()
        shutil.rmtree(self.dir, ignore_errors=True)
