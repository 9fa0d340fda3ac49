"""Every role stops promptly and cleanly on SIGTERM, at any moment: while it waits for an
unreachable database at start, while it runs, and (migrate) in the middle of its work.

The signal goes to the main process only, as a container engine sends it to PID 1."""

from __future__ import annotations

import asyncio
import signal
import subprocess
import sys
import time

import pytest

from tests.servers import ROOT, PlatformProcess, backend_env, free_port, fresh_database

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

PROMPT = 20  # seconds: inside a grace period (systemd 90 s; compose sets 30 s), on a busy 2-core machine


def wait_for_log(process: PlatformProcess, text: str, timeout: float = 60) -> None:
    deadline = time.monotonic() + timeout
    while text not in process.log():
        assert process.proc.poll() is None, process.log()[-3000:]
        assert time.monotonic() < deadline, f"{text!r} not in the log: {process.log()[-3000:]}"
        time.sleep(0.1)


def health_check(process: PlatformProcess) -> int:
    """``python -m backend worker --check`` with the worker's settings: its exit status."""
    check = subprocess.run(
        [sys.executable, "-m", "backend", "worker", "--check"],
        cwd=ROOT,
        env=backend_env(**process.settings),
        capture_output=True,
        timeout=60,
    )
    return check.returncode


def sigterm_main(process: PlatformProcess) -> int:
    """SIGTERM to the main process alone; its exit status, which must come within ``PROMPT`` seconds."""
    process.proc.send_signal(signal.SIGTERM)
    try:
        return process.proc.wait(PROMPT)
    except subprocess.TimeoutExpired:
        process.stop()
        raise AssertionError(f"still running {PROMPT}s after SIGTERM: {process.log()[-3000:]}") from None


@pytest.mark.parametrize(("role", "processes"), [("api", "1"), ("api", "2"), ("worker", "1"), ("migrate", "1")])
def test_a_process_waiting_for_an_unreachable_database_stops_on_sigterm(
    role, processes, redis_url, artifacts_dir, tmp_path
):
    nowhere = f"postgres://postgres@127.0.0.1:{free_port()}/platform"
    process = PlatformProcess(
        role, artifacts_dir, database_url=nowhere, redis_url=redis_url, api_processes=processes, data_dir=str(tmp_path)
    )
    process.start(wait=False)
    try:
        wait_for_log(process, "database unreachable at start")
        code = sigterm_main(process)
    finally:
        process.stop()
    assert code == 0, process.log()[-3000:]
    assert "stopped before starting" in process.log()
    assert "Traceback" not in process.log()


@pytest.mark.parametrize("role", ["api", "worker"])
def test_a_running_process_stops_on_sigterm(role, pg_url, redis_url, artifacts_dir, tmp_path):
    process = PlatformProcess(
        role, artifacts_dir, database_url=pg_url, redis_url=redis_url, api_processes="2", data_dir=str(tmp_path)
    )
    process.start()
    try:
        if role == "worker":
            assert health_check(process) == 0  # the heartbeat a container engine asks about
        code = sigterm_main(process)
    finally:
        process.stop()
    assert code in (0, -signal.SIGTERM), process.log()[-3000:]  # uvicorn re-raises the signal once it has stopped
    if role == "worker":
        assert health_check(process) == 1  # a stopped worker is not healthy
    assert "Traceback" not in process.log()


def test_migrate_stopped_midway_leaves_a_database_the_next_migrate_completes(pg_url, tmp_path):
    url = asyncio.run(fresh_database(pg_url, "stopped_midway"))
    env = backend_env(database_url=url, data_dir=str(tmp_path))
    migrate = subprocess.Popen(
        [sys.executable, "-m", "backend", "migrate"],
        cwd=ROOT,
        env=env,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    time.sleep(2.0)  # imports done, migrations under way (or finished on a fast machine)
    migrate.send_signal(signal.SIGTERM)
    migrate.wait(PROMPT)
    again = subprocess.run(
        [sys.executable, "-m", "backend", "migrate"], cwd=ROOT, env=env, capture_output=True, text=True, timeout=300
    )
    assert again.returncode == 0, again.stdout + again.stderr


def test_the_test_environment_stops_on_sigterm(artifacts_dir):
    port = free_port()
    log = open(artifacts_dir / f"sandbox-stop-{port}.log", "wb")  # noqa: SIM115 - the child writes to it
    sandbox = subprocess.Popen(
        [sys.executable, "-m", "backend.sandbox", "--port", str(port)],
        cwd=ROOT,
        env=backend_env(),
        stdout=log,
        stderr=subprocess.STDOUT,
    )
    import httpx

    from tests.servers import wait_for

    try:
        wait_for(
            lambda: httpx.get(f"http://127.0.0.1:{port}/sim/registration/.well-known/jwks.json").is_success, "sandbox"
        )
        sandbox.send_signal(signal.SIGTERM)
        code = sandbox.wait(PROMPT)
    finally:
        if sandbox.poll() is None:
            sandbox.kill()
            sandbox.wait()
    assert code in (0, -signal.SIGTERM)


def test_two_migrates_started_at_once_both_finish(pg_url, tmp_path):
    """Two replicas' ``migrate`` (or a deploy retried while the first still runs) take turns."""
    url = asyncio.run(fresh_database(pg_url, "migrated_twice"))
    env = backend_env(database_url=url, data_dir=str(tmp_path))
    command = [sys.executable, "-m", "backend", "migrate"]
    both = [
        subprocess.Popen(command, cwd=ROOT, env=env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT) for _ in "ab"
    ]
    outputs = [process.communicate(timeout=300)[0].decode() for process in both]
    assert [process.returncode for process in both] == [0, 0], outputs
