"""Signatures: unsigned, forged, out-of-scope, expired and replayed messages are refused."""

from __future__ import annotations

import time

import httpx
import msgspec
import pytest
from connectors_support import callback_url, make_connector, stats
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.connectors.base import CallbackRejected, CallbackResult, MemoryReplayGuard, PermanentError, TransientError
from backend.connectors.client import Credentials
from backend.connectors.registry import all_specs, build_connector
from backend.connectors.samples import pick_enterprises, submission_for
from backend.connectors.signing import (
    SignatureError,
    Signer,
    Verifier,
    generate_signing_key,
    jwks_of,
)
from backend.connectors.spec import parse_signature_algorithms, with_signature_algorithm

pytestmark = pytest.mark.usefixtures("reset_sims")


_KEY = generate_signing_key("prop")


@settings(max_examples=40, deadline=None)
@given(body=st.binary(max_size=2048), flip=st.integers(min_value=0))
def test_any_body_verifies_and_any_change_is_caught(body, flip):
    sig, _ = Signer(_KEY).sign(body)
    verifier = Verifier(jwks_of(_KEY))
    verifier.verify(sig, body)
    changed = bytearray(body or b"\x00")
    changed[flip % len(changed)] ^= 0x01
    with pytest.raises(SignatureError):
        verifier.verify(sig, bytes(changed) if body else b"x")


def test_detached_signature_roundtrip_and_tampering():
    key = generate_signing_key("k1")
    sig, jti = Signer(key).sign(b'{"a":1}', htm="POST", htu="/x")
    header = Verifier(jwks_of(key)).verify(sig, b'{"a":1}')
    assert header["jti"] == jti and header["htu"] == "/x"
    with pytest.raises(SignatureError) as err:
        Verifier(jwks_of(key)).verify(sig, b'{"a":2}')
    assert err.value.code == "invalid_signature"
    with pytest.raises(SignatureError) as err:
        Verifier(jwks_of(generate_signing_key("k1"))).verify(sig, b'{"a":1}')  # same kid, other key
    assert err.value.code == "invalid_signature"
    with pytest.raises(SignatureError) as err:
        Verifier(jwks_of(key)).verify(None, b"")
    assert err.value.code == "missing_signature"
    old, _ = Signer(key).sign(b"x", now=time.time() - 3600)
    with pytest.raises(SignatureError) as err:
        Verifier(jwks_of(key)).verify(old, b"x")
    assert err.value.code == "expired_signature"


@pytest.mark.asyncio
async def test_simulator_refuses_unsigned_forged_and_rescoped_requests(env, data, platform_key):
    spec = all_specs()["etax"]
    ok, _ = pick_enterprises(spec, data)
    sub = submission_for(spec, ok, data, callback_url(env, "etax"))
    url = f"{env['sandbox'].url}/sim/etax{spec.submit_path}"
    body = msgspec.json.encode(sub)
    async with httpx.AsyncClient() as c:
        r = await c.post(url, content=body, headers={"Idempotency-Key": "k1", "X-Client-Id": "platform-test"})
        assert r.status_code == 401 and r.json()["code"] == "missing_signature"
        forged, _ = Signer(generate_signing_key(platform_key["kid"])).sign(body, htm="POST", htu=spec.submit_path)
        r = await c.post(
            url, content=body, headers={"Idempotency-Key": "k1", "X-Client-Id": "platform-test", "X-Signature": forged}
        )
        assert r.status_code == 401 and r.json()["code"] == "invalid_signature"
        elsewhere, _ = Signer(platform_key).sign(body, htm="POST", htu="/api/v1/prechecks")
        r = await c.post(
            url,
            content=body,
            headers={"Idempotency-Key": "k1", "X-Client-Id": "platform-test", "X-Signature": elsewhere},
        )
        assert r.status_code == 401 and r.json()["code"] == "signature_scope_mismatch"
        good, _ = Signer(platform_key).sign(body, htm="POST", htu=spec.submit_path, idk="k1")
        r = await c.post(
            url, content=body, headers={"X-Client-Id": "platform-test", "X-Signature": good, "Idempotency-Key": "k2"}
        )
        assert (
            r.status_code == 401 and r.json()["code"] == "signature_scope_mismatch"
        )  # captured, re-sent under another key
        r = await c.post(
            url, content=body, headers={"X-Client-Id": "stranger", "X-Signature": good, "Idempotency-Key": "k1"}
        )
        assert r.status_code == 401 and r.json()["code"] == "unknown_client"
        unkeyed, _ = Signer(platform_key).sign(body, htm="POST", htu=spec.submit_path)
        r = await c.post(url, content=body, headers={"X-Client-Id": "platform-test", "X-Signature": unkeyed})
        assert r.status_code == 400 and r.json()["code"] == "missing_idempotency_key"
    s = stats(env, "etax")
    assert s["submissions"] == 0 and s["rejected_requests"] == 5

    conn = make_connector(env, "etax", generate_signing_key(platform_key["kid"]))  # wrong private key
    try:
        with pytest.raises(PermanentError) as err:
            await conn.submit(sub)
        assert err.value.status == 401
    finally:
        await conn.aclose()


@pytest.mark.asyncio
async def test_connector_refuses_unverifiable_responses(env, data, platform_key):
    spec = all_specs()["amr"]
    ok, _ = pick_enterprises(spec, data)
    conn = make_connector(env, "amr", platform_key, system_jwks=jwks_of(generate_signing_key("amr-sim-1")))
    try:
        with pytest.raises(TransientError) as err:
            await conn.submit(submission_for(spec, ok, data, callback_url(env, "amr")))
        assert err.value.code == "bad_response_signature"
    finally:
        await conn.aclose()


def _callback(system: str = "etax") -> CallbackResult:
    return CallbackResult(
        event_id="e1",
        reference="R1",
        item_ref="C1/TAX",
        item_code="TAX-UNIFIED",
        system=system,
        outcome="completed",
        sequence=2,
        occurred_at="2026-11-26T00:00:00+00:00",
    )


@pytest.mark.asyncio
async def test_verify_callback_refuses_forged_expired_replayed(env, platform_key):
    sim_key = generate_signing_key("etax-sim-1")
    conn = make_connector(env, "etax", platform_key, system_jwks=jwks_of(sim_key))
    guard = MemoryReplayGuard()
    body = msgspec.json.encode(_callback())
    sig, _ = Signer(sim_key).sign(body)
    result = await conn.verify_callback({"x-signature": sig}, body, guard)
    assert result.outcome == "completed"

    async def refused(headers, payload) -> str:
        with pytest.raises(CallbackRejected) as err:
            await conn.verify_callback(headers, payload, guard)
        return err.value.code

    assert await refused({"X-Signature": sig}, body) == "replayed"
    assert await refused({}, body) == "missing_signature"
    assert await refused({"X-Signature": sig}, body.replace(b"completed", b"rejected")) == "invalid_signature"
    forged, _ = Signer(generate_signing_key("etax-sim-1")).sign(body)
    assert await refused({"X-Signature": forged}, body) == "invalid_signature"
    expired, _ = Signer(sim_key).sign(body, now=time.time() - 900)
    assert await refused({"X-Signature": expired}, body) == "expired_signature"
    other = msgspec.json.encode(_callback("amr"))
    sig_other, _ = Signer(sim_key).sign(other)
    assert await refused({"X-Signature": sig_other}, other) == "wrong_system"
    junk = b"not json"
    sig_junk, _ = Signer(sim_key).sign(junk)
    assert await refused({"X-Signature": sig_junk}, junk) == "malformed_callback"
    await conn.aclose()


@pytest.mark.asyncio
async def test_an_sm2_system_is_trusted_with_sm2_only(env, platform_key):
    """A system specified SM2 (customs): its callbacks verify with SM2; one signed ES256 by a key in
    the same JWKS is refused (no downgrade), and so is an SM2 callback to an ES256 system."""
    sm2_key, es_key = generate_signing_key("cfz-sm2", "SM2"), generate_signing_key("cfz-es", "ES256")
    customs = make_connector(env, "customs-fz", platform_key, system_jwks=jwks_of(sm2_key, es_key))
    etax = make_connector(env, "etax", platform_key, system_jwks=jwks_of(sm2_key, es_key))
    try:
        assert customs.alg == "SM2SM3" and customs._current_signer().alg == "SM2SM3"
        assert etax.alg == "ES256" and etax._current_signer().alg == "ES256"
        body = msgspec.json.encode(_callback("customs-fz"))
        sm2_sig, _ = Signer(sm2_key).sign(body)
        assert (await customs.verify_callback({"x-signature": sm2_sig}, body, MemoryReplayGuard())).outcome
        es_sig, _ = Signer(es_key).sign(body)
        with pytest.raises(CallbackRejected):
            await customs.verify_callback({"x-signature": es_sig}, body, MemoryReplayGuard())
        body = msgspec.json.encode(_callback("etax"))
        with pytest.raises(CallbackRejected):
            await etax.verify_callback({"x-signature": Signer(sm2_key).sign(body)[0]}, body, MemoryReplayGuard())
    finally:
        await customs.aclose()
        await etax.aclose()


def test_signature_algorithms_setting():
    assert parse_signature_algorithms("customs-fz=ES256, amr=sm2") == {"customs-fz": "ES256", "amr": "SM2"}
    spec = all_specs()["customs-fz"]
    assert spec.signature_algorithm == "SM2" and spec.jws_alg == "SM2SM3"
    assert with_signature_algorithm(spec, "*=ES256").jws_alg == "ES256"
    assert with_signature_algorithm(spec, "amr=ES256") is spec
    with pytest.raises(ValueError):
        parse_signature_algorithms("customs-fz=RS256")
    with pytest.raises(ValueError, match="no SM2SM3 signing key"):  # an SM2 system needs our SM2 key
        build_connector("customs-fz", "http://x", Credentials("c", generate_signing_key("k")))


@pytest.mark.asyncio
async def test_jwks_rotation_is_picked_up(env, platform_key):
    """A callback signed with a key the connector has not seen triggers one JWKS refresh."""
    engine = env["engines"]["seal-online"]
    conn = make_connector(env, "seal-online", platform_key)
    try:
        body = msgspec.json.encode(_callback("seal-online"))
        sig, _ = engine.signer.sign(body)
        assert (await conn.verify_callback({"X-Signature": sig}, body, MemoryReplayGuard())).system == "seal-online"
        stranger = generate_signing_key("seal-online-sim-2")
        sig2, _ = Signer(stranger).sign(body)
        with pytest.raises(CallbackRejected) as err:
            await conn.verify_callback({"X-Signature": sig2}, body, MemoryReplayGuard())
        assert err.value.code == "unknown_key"
    finally:
        await conn.aclose()
