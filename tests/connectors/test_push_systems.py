"""The push systems (好差评, SMS) over real HTTP: connector ↔ simulator, faults, and the conformance kit."""

from __future__ import annotations

import asyncio

import httpx
import pytest
from connectors_support import LiveServer

from backend.connectors.base import PermanentError, TransientError
from backend.connectors.client import Credentials
from backend.connectors.conformance import run_conformance
from backend.connectors.push import PushConnector, all_push_specs
from backend.connectors.push_conformance import sample_message
from backend.connectors.signing import generate_signing_key, jwks_of
from backend.sandbox.mount import create_sandbox_app, engines_of
from backend.sandbox.push import build_push_simulators

PUSH = list(all_push_specs())


@pytest.fixture(scope="module")
def push_env():
    key = generate_signing_key("push-test-1")
    sims = build_push_simulators(clients={"push-test": jwks_of(key)})
    server = LiveServer(create_sandbox_app(sims)).start()
    yield {"url": server.url, "key": key, "engines": engines_of(sims)}
    server.stop()


async def _http(method: str, url: str, **kwargs) -> httpx.Response:
    async with httpx.AsyncClient(timeout=10) as client:
        response = await client.request(method, url, **kwargs)
    response.raise_for_status()
    return response


async def _reset(url: str, system: str) -> None:
    await _http("POST", f"{url}/sim/{system}/admin/reset")


@pytest.mark.parametrize("system", PUSH)
async def test_a_message_is_kept_once_however_often_it_is_sent(push_env, system):
    url = push_env["url"]
    await _reset(url, system)
    conn = PushConnector(all_push_specs()[system], f"{url}/sim/{system}", Credentials("push-test", push_env["key"]))
    message = sample_message(all_push_specs()[system], "m-1")
    first = await conn.push(message)
    again = await conn.push(message)  # a retry after a lost answer: same key, same body
    assert first.status == "accepted" and first.receipt and again.receipt == first.receipt and not again.duplicate
    stats = (await _http("GET", f"{url}/sim/{system}/admin/stats")).json()
    assert stats["submissions"] == 1 and stats["duplicates"] == 0 and stats["idempotent_replays"] == 1
    kept = (await _http("GET", f"{url}/sandbox/simulators/{system}/messages")).json()
    assert [m["message"]["message_id"] for m in kept] == ["m-1"]
    if system == "sms":  # the sandbox never shows a whole number
        assert kept[0]["message"]["phone"] == "199****0000"
    await conn.aclose()


@pytest.mark.parametrize("system", PUSH)
async def test_faults_are_transient_or_a_refusal(push_env, system):
    url = push_env["url"]
    await _reset(url, system)
    spec = all_push_specs()[system]
    conn = PushConnector(spec, f"{url}/sim/{system}", Credentials("push-test", push_env["key"]), timeout=0.5)
    faults = f"{url}/sim/{system}/admin/faults"
    await _http("PUT", faults, json={"down": True})
    with pytest.raises(TransientError) as down:
        await conn.push(sample_message(spec, "m-down"))
    assert down.value.status == 503
    await _http("PUT", faults, json={"fail_next": 1, "error_status": 502})
    with pytest.raises(TransientError):
        await conn.push(sample_message(spec, "m-5xx"))
    await _http("PUT", faults, json={"latency_ms": 2000})
    with pytest.raises(TransientError) as slow:
        await conn.push(sample_message(spec, "m-slow"))
    assert slow.value.code == "timeout"
    await _http("PUT", faults, json={"reject_messages": True})
    refused = await conn.push(sample_message(spec, "m-refused"))
    assert refused.status == "rejected" and refused.reasons[0].code == "message_refused"
    await _http("PUT", faults, json={})
    await asyncio.sleep(2)  # let the slow request's handler finish on the server before counting
    ok = await conn.push(sample_message(spec, "m-down"))
    assert ok.status == "accepted"
    kept = [
        m["message"]["message_id"] for m in (await _http("GET", f"{url}/sandbox/simulators/{system}/messages")).json()
    ]
    assert "m-down" in kept and "m-refused" not in kept and kept.count("m-down") == 1
    await conn.aclose()


async def test_an_unknown_client_is_refused(push_env):
    url = push_env["url"]
    spec = all_push_specs()["haochaping"]
    stranger = PushConnector(spec, f"{url}/sim/haochaping", Credentials("nobody", generate_signing_key("nobody-1")))
    with pytest.raises(PermanentError) as refused:
        await stranger.push(sample_message(spec, "m-stranger"))
    assert refused.value.status == 401
    await stranger.aclose()


@pytest.mark.parametrize("system", PUSH)
async def test_the_conformance_kit_passes_against_the_simulator(push_env, system):
    results = await run_conformance(system, f"{push_env['url']}/sim/{system}")
    assert results and all(r.passed for r in results), [(r.name, r.detail) for r in results if not r.passed]
    assert len(results) == 10  # key registration and the nine push checks


@pytest.mark.parametrize("system", PUSH)
def test_the_published_standard_matches_the_simulator_and_the_wire_shape(system):
    import msgspec
    import yaml

    from backend.connectors import specgen
    from backend.sandbox.push import create_push_simulator_app

    spec = all_push_specs()[system]
    path = specgen.HERE / spec.package / "openapi.yaml"
    doc = yaml.safe_load(path.read_text(encoding="utf-8"))
    assert doc == yaml.safe_load(specgen.documents()[path])  # committed and current
    served = {route.path for route in create_push_simulator_app(system).routes}
    assert set(doc["paths"]) <= served
    name = spec.message_type.__name__
    schema = doc["components"]["schemas"][name]
    fields = {f.name for f in msgspec.structs.fields(spec.message_type)}
    required = {f.name for f in msgspec.structs.fields(spec.message_type) if f.required}
    assert set(schema["properties"]) == fields and set(schema["required"]) == required
    for struct, props in doc["components"]["schemas"].items():  # every field described in zh-CN
        for field_name, prop in props.get("properties", {}).items():
            if struct not in ("Problem", "JWKS", "Reason"):
                assert prop.get("description"), (struct, field_name)


async def test_the_conformance_kit_fails_a_system_that_refuses_valid_messages(push_env):
    url = push_env["url"]
    await _http("PUT", f"{url}/sim/sms/admin/faults", json={"reject_messages": True})
    try:
        results = await run_conformance("sms", f"{url}/sim/sms")
    finally:
        await _http("PUT", f"{url}/sim/sms/admin/faults", json={})
    failed = {r.name for r in results if not r.passed}
    assert "accepts a valid signed message" in failed
    assert "rejects unsigned requests" not in failed  # the other checks still run and judge
