"""``python -m backend.sandbox`` starts the test environment alone."""

from __future__ import annotations

import json
import subprocess
import time

import httpx
import pytest
from connectors_support import free_port

from backend.connectors.signing import generate_signing_key, jwks_of
from tests.servers import ROOT, sandbox_command

pytestmark = pytest.mark.slow  # the test environment as a child process, on a socket


def test_one_command_starts_the_test_environment(tmp_path):
    port = free_port()
    jwks = tmp_path / "platform.jwks.json"
    jwks.write_text(json.dumps(jwks_of(generate_signing_key("p1"))))
    proc = subprocess.Popen(
        sandbox_command(
            port, f"platform={jwks}", "--closed-registration", "--signature-algorithms", "amr=SM2,customs-xm=ES256"
        ),
        cwd=ROOT,
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
    )
    try:
        base = f"http://127.0.0.1:{port}"
        deadline = time.monotonic() + 20
        while True:
            try:
                if httpx.get(f"{base}/sandbox/personas", timeout=1).status_code == 200:
                    break
            except httpx.HTTPError:
                pass
            assert time.monotonic() < deadline and proc.poll() is None, "sandbox did not start"
            time.sleep(0.1)
        from backend.connectors.push import all_push_specs
        from backend.connectors.registry import all_specs

        assert len(httpx.get(f"{base}/sandbox/simulators").json()) == len(all_specs()) + len(all_push_specs())

        def curves(system: str) -> set[str]:
            return {k["crv"] for k in httpx.get(f"{base}/sim/{system}/.well-known/jwks.json").json()["keys"]}

        # each system publishes keys of its algorithm: the spec's, or the one the option gave it
        assert (curves("amr"), curves("customs-xm"), curves("customs-fz"), curves("etax")) == (
            {"SM2"},
            {"P-256"},
            {"SM2"},
            {"P-256"},
        )
        r = httpx.put(f"{base}/sim/amr/admin/clients/x", json=jwks_of(generate_signing_key("x")))
        assert r.status_code == 403 and r.json()["code"] == "registration_closed"
    finally:
        proc.terminate()
        proc.wait(timeout=10)
