"""Keys shared by every process, rotated without ending sessions or agencies' trust.

The key files are made and rotated with ``python -m backend keys`` exactly as an operator
does, while a platform (real HTTP, the test environment's personas) keeps serving.
"""

from __future__ import annotations

import base64
import json
import stat
import subprocess
import sys

import httpx
import pytest

from backend.connectors.signing import SignatureError, Verifier, peek_kid
from tests.cases.live import serve_platform
from tests.servers import ROOT, backend_env

USCC = "91350902MA33022893"  # an enterprise of the test environment's fixtures


def keys(*args: str) -> str:
    """Run ``python -m backend keys ...`` and return what it printed."""
    result = subprocess.run(
        [sys.executable, "-m", "backend", "keys", *args], cwd=ROOT, env=backend_env(), capture_output=True, text=True
    )
    assert result.returncode == 0, result.stderr
    return result.stdout.strip()


def mode(path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


def kid_of(token: str) -> str:
    """The ``kid`` in a JWT's header."""
    return json.loads(base64.urlsafe_b64decode(token.split(".")[0] + "=="))["kid"]


@pytest.mark.slow  # runs the CLI as a child process
def test_the_cli_writes_private_files_and_refuses_unsafe_steps(tmp_path):
    path = tmp_path / "signing.json"
    first, first_sm2 = keys("signing", "create", "--file", str(path)).splitlines()  # an ES256 and an SM2 key
    assert mode(path) == 0o600
    failed = subprocess.run(
        [sys.executable, "-m", "backend", "keys", "signing", "create", "--file", str(path)],
        cwd=ROOT,
        env=backend_env(),
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 1 and "exists already" in failed.stderr  # never overwrites a key set
    failed = subprocess.run(
        [sys.executable, "-m", "backend", "keys", "signing", "retire", first, "--file", str(path)],
        cwd=ROOT,
        env=backend_env(),
        capture_output=True,
        text=True,
    )
    assert failed.returncode == 1 and "is current" in failed.stderr
    second, second_sm2 = keys("signing", "add", "--file", str(path)).splitlines()
    assert mode(path) == 0o600
    listed = json.loads(keys("signing", "list", "--file", str(path)))
    assert {k["kid"]: (k["ring"], k["state"]) for k in listed} == {
        first: ("signing", "current"),
        second: ("signing", "next"),
        first_sm2: ("signing-sm2", "current"),
        second_sm2: ("signing-sm2", "next"),
    }
    rings = json.loads(path.read_text())["rings"]
    assert {e["jwk"]["crv"] for e in rings["signing"]} == {"P-256"}
    assert {(e["jwk"]["crv"], e["jwk"]["alg"]) for e in rings["signing-sm2"]} == {("SM2", "SM2SM3")}
    assert '"d"' not in keys("signing", "list", "--file", str(path))
    # one ring alone: promote the SM2 key only
    assert keys("signing", "promote", "--alg", "SM2", "--file", str(path)) == second_sm2


@pytest.mark.slow  # runs the CLI as a child process
def test_a_signing_file_from_before_sm2_gains_its_sm2_ring(tmp_path):
    from backend.lib import keyring

    path = tmp_path / "signing.json"
    keyring.write_rings(path, {"signing": [{**keyring.new_key("yjs-platform"), "state": "current"}]})
    made = keys("signing", "add", "--file", str(path)).splitlines()
    assert len(made) == 3  # the SM2 ring's first key (current at once), then a next key in each ring
    states = {(k["ring"], k["state"]) for k in json.loads(keys("signing", "list", "--file", str(path)))}
    assert states == {("signing", "current"), ("signing", "next"), ("signing-sm2", "current"), ("signing-sm2", "next")}


@pytest.mark.slow  # a live platform over HTTP
async def test_rotation_keeps_sessions_and_agency_verification_until_the_old_key_is_retired(tmp_path):
    identity_file, signing_file = tmp_path / "secrets" / "identity.json", tmp_path / "secrets" / "signing.json"
    identity_a = keys("identity", "create", "--file", str(identity_file))
    signing_a, sm2_a = keys("signing", "create", "--file", str(signing_file)).splitlines()
    async with serve_platform(
        tmp_path,
        identity_keys_file=str(identity_file),
        signing_key_file=str(signing_file),
        keys_reload_seconds=0,  # look at the files on every use (production: every 10 s)
    ) as app:
        platform = app.state.platform
        base = platform.settings.base_url
        connector = platform.connectors["etax"]
        customs = platform.connectors["customs-fz"]  # signs SM2
        body = b'{"probe": 1}'

        async with httpx.AsyncClient(base_url=base, timeout=20) as http:

            async def session(persona: str = "applicant-p002") -> str:
                response = await http.post("/sandbox/token", json={"persona": persona})
                assert response.status_code == 200, response.text
                return response.json()["access_token"]

            async def me(token: str) -> int:
                return (await http.get("/api/v1/me", headers={"Authorization": f"Bearer {token}"})).status_code

            async def published() -> dict:
                return (await http.get("/.well-known/jwks.json")).json()

            # Before: one key each; an agency caches our JWKS.
            token_a = await session()
            assert kid_of(token_a) == identity_a and await me(token_a) == 200
            agency_cache = await published()
            assert [k["kid"] for k in agency_cache["keys"]] == [signing_a, sm2_a]
            assert all("d" not in k for k in agency_cache["keys"])  # public halves only
            signed_a, _ = connector._current_signer().sign(body)
            Verifier(agency_cache).verify(signed_a, body)
            sm2_signed_a, _ = customs._current_signer().sign(body)
            assert peek_kid(sm2_signed_a) == sm2_a
            assert Verifier(agency_cache, ("SM2SM3",)).verify(sm2_signed_a, body)["alg"] == "SM2SM3"

            # 1. add: B is published and accepted, nothing signs with it yet.
            identity_b = keys("identity", "add", "--file", str(identity_file))
            signing_b, sm2_b = keys("signing", "add", "--file", str(signing_file)).splitlines()
            assert {k["kid"] for k in (await published())["keys"]} == {signing_a, signing_b, sm2_a, sm2_b}
            assert kid_of(await session()) == identity_a
            assert peek_kid(connector._current_signer().sign(body)[0]) == signing_a
            assert peek_kid(customs._current_signer().sign(body)[0]) == sm2_a

            # 2. promote: B signs; A's session and A's signatures stay valid.
            assert keys("identity", "promote", "--file", str(identity_file)) == identity_b
            assert keys("signing", "promote", "--file", str(signing_file)).splitlines() == [signing_b, sm2_b]
            token_b = await session()
            assert kid_of(token_b) == identity_b
            assert await me(token_a) == 200 and await me(token_b) == 200
            signed_b, _ = connector._current_signer().sign(body)
            assert peek_kid(signed_b) == signing_b
            sm2_signed_b, _ = customs._current_signer().sign(body)
            assert peek_kid(sm2_signed_b) == sm2_b
            # The agency meets an unknown kid, re-fetches our JWKS (as the interface standard says) ...
            assert not Verifier(agency_cache).has_kid(signing_b)
            agency_cache = await published()
            Verifier(agency_cache).verify(signed_b, body)
            Verifier(agency_cache).verify(signed_a, body)  # ... and what A signed still verifies
            Verifier(agency_cache).verify(sm2_signed_b, body)
            Verifier(agency_cache).verify(sm2_signed_a, body)
            # the test environment's agencies (mounted in-process) follow the key file too
            await connector.precheck(USCC, next(iter(connector.spec.items)))
            await customs.precheck(USCC, next(iter(customs.spec.items)))

            # 3. retire A: its tokens and signatures are refused from now on.
            keys("identity", "retire", identity_a, "--file", str(identity_file))
            keys("signing", "retire", signing_a, "--file", str(signing_file))
            keys("signing", "retire", sm2_a, "--file", str(signing_file))
            assert await me(token_a) == 401
            assert await me(token_b) == 200
            agency_cache = await published()
            assert [k["kid"] for k in agency_cache["keys"]] == [signing_b, sm2_b]
            with pytest.raises(SignatureError):
                Verifier(agency_cache).verify(signed_a, body)
            with pytest.raises(SignatureError):
                Verifier(agency_cache).verify(sm2_signed_a, body)
            Verifier(agency_cache).verify(signed_b, body)
            await connector.precheck(USCC, next(iter(connector.spec.items)))
            await customs.precheck(USCC, next(iter(customs.spec.items)))
    assert mode(identity_file) == 0o600 and mode(signing_file) == 0o600
    retired = {k["kid"]: k for k in json.loads(keys("identity", "list", "--file", str(identity_file)))}
    assert retired[identity_a]["state"] == "retired"
    assert json.loads(identity_file.read_text())["rings"]["platform"][0]["jwk"] is None  # private half wiped
