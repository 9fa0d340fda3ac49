"""The kiosk shell (kiosk/shell/kiosk-shell.sh) with a stand-in browser: it starts only once
/healthz answers, with the kiosk flags and URL, and starts the browser again after a crash
or a hang, each time with a fresh profile that is removed afterwards."""

from __future__ import annotations

import http.server
import os
import subprocess
import threading
import time
from pathlib import Path

import pytest

from tests.servers import ROOT, free_port

SHELL = ROOT / "kiosk" / "shell" / "kiosk-shell.sh"

pytestmark = pytest.mark.slow  # the shell and its stand-in browser as child processes, a health server


class Platform(http.server.BaseHTTPRequestHandler):
    healthy = False

    def do_GET(self):  # noqa: N802
        ok = self.path == "/healthz" and type(self).healthy
        self.send_response(200 if ok else 503)
        self.end_headers()

    def log_message(self, *args):
        pass


@pytest.fixture
def platform():
    handler = type("Handler", (Platform,), {"healthy": False})
    server = http.server.ThreadingHTTPServer(("127.0.0.1", free_port()), handler)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    yield server, handler
    server.shutdown()


def fake_browser(tmp_path: Path, behaviour: str) -> Path:
    """A stand-in for Chromium that records each start (its arguments) and crashes or hangs."""
    script = tmp_path / "chromium"
    action = "sleep 1; exit 1" if behaviour == "crash" else f"echo $$ > {tmp_path}/pid; exec sleep 600"
    script.write_text(
        f'#!/bin/sh\nn=$(ls {tmp_path}/start-* 2>/dev/null | wc -l)\nprintf "%s\\n" "$@" > '
        f"{tmp_path}/start-$n\n{action}\n"
    )
    script.chmod(0o755)
    return script


def run_shell(tmp_path: Path, url: str, chromium: Path, max_starts: int, **extra: str) -> subprocess.Popen:
    env = {
        **os.environ,
        "KIOSK_CONF": str(tmp_path / "none.conf"),
        "PLATFORM_URL": url,
        "BRIDGE_URL": "http://127.0.0.1:7300",
        "IDLE_SECONDS": "60",
        "WARN_SECONDS": "15",
        "CHROMIUM": str(chromium),
        "WATCHDOG_INTERVAL": "1",
        "HANG_TIMEOUT": "1",
        "HANG_CHECKS": "2",
        "DEBUG_PORT": str(free_port()),
        "MAX_STARTS": str(max_starts),
        "TMPDIR": str(tmp_path),
        "DAILY_RESTART_HOUR": "",
        **extra,
    }
    return subprocess.Popen(["bash", str(SHELL)], env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)


def starts(tmp_path: Path) -> list[list[str]]:
    return [p.read_text().split("\n")[:-1] for p in sorted(tmp_path.glob("start-*"))]


def test_waits_for_health_then_restarts_a_crashed_browser(platform, tmp_path):
    server, handler = platform
    url = f"http://127.0.0.1:{server.server_address[1]}"
    shell = run_shell(tmp_path, url, fake_browser(tmp_path, "crash"), max_starts=2)
    try:
        time.sleep(2.5)
        assert starts(tmp_path) == [], "no browser while /healthz fails"
        handler.healthy = True
        assert shell.wait(30) == 0, shell.stderr.read()
    finally:
        shell.kill()
    runs = starts(tmp_path)
    assert len(runs) == 2
    args = runs[0]
    for flag in (
        "--kiosk",
        "--incognito",
        "--noerrdialogs",
        "--disable-pinch",
        "--overscroll-history-navigation=0",
        "--remote-debugging-address=127.0.0.1",
    ):
        assert flag in args
    assert args[-1] == f"{url}/kiosk/?idle=60&warn=15&bridge=http://127.0.0.1:7300"
    profiles = [a.split("=", 1)[1] for run in runs for a in run if a.startswith("--user-data-dir=")]
    assert len(set(profiles)) == 2 and not any(Path(p).exists() for p in profiles), (
        "a fresh profile each start, removed afterwards"
    )
    assert "restarting: browser exited" in shell.stderr.read()


def test_restarts_a_hung_browser(platform, tmp_path):
    server, handler = platform
    handler.healthy = True
    url = f"http://127.0.0.1:{server.server_address[1]}"
    shell = run_shell(tmp_path, url, fake_browser(tmp_path, "hang"), max_starts=1)
    try:
        assert shell.wait(30) == 0
    finally:
        shell.kill()
    assert len(starts(tmp_path)) == 1
    assert "restarting: browser hung or left the kiosk page" in shell.stderr.read()
    pid = int((tmp_path / "pid").read_text())
    with pytest.raises(ProcessLookupError):  # the hung browser was killed
        os.kill(pid, 0)
