"""Each fault mode of the simulators, and how the connector and receiver cope with it."""

from __future__ import annotations

import asyncio
import time

import httpx
import pytest
from connectors_support import callback_url, make_connector, set_faults, set_form, stats

from backend.connectors.base import TransientError
from backend.connectors.registry import all_specs
from backend.connectors.samples import pick_enterprises, submission_for

pytestmark = pytest.mark.usefixtures("reset_sims")


async def _submit(env, data, key, system, **conn_kw):
    spec = all_specs()[system]
    ok, _ = pick_enterprises(spec, data)
    conn = make_connector(env, system, key, **conn_kw)
    return conn, submission_for(spec, ok, data, callback_url(env, system))


@pytest.mark.asyncio
async def test_faults_are_off_by_default(env):
    r = httpx.get(f"{env['sandbox'].url}/sandbox/simulators/etax/faults")
    assert r.json() == {}


@pytest.mark.asyncio
async def test_latency_beyond_timeout_is_transient(env, data, platform_key):
    set_faults(env, "etax", latency_ms=400)
    conn, sub = await _submit(env, data, platform_key, "etax", timeout=0.15)
    try:
        await conn._load_jwks()
        with pytest.raises(TransientError) as err:
            await conn.submit(sub)
        assert err.value.code == "timeout"
    finally:
        await conn.aclose()


@pytest.mark.asyncio
@pytest.mark.parametrize(
    "faults,code",
    [
        ({"error_rate": 1.0}, "server_error"),
        ({"error_rate": 1.0, "error_status": 429}, "rate_limited"),
        ({"down": True}, "server_error"),
    ],
)
async def test_errors_are_transient_and_retry_is_safe(env, receiver, data, platform_key, faults, code):
    set_faults(env, "amr", **faults)
    conn, sub = await _submit(env, data, platform_key, "amr")
    try:
        with pytest.raises(TransientError) as err:
            await conn.submit(sub)
        assert err.value.code == code and err.value.retry_after == 1.0
        set_faults(env, "amr", error_rate=0.0, down=False)
        ack = await conn.submit(sub)  # the dispatcher's retry: same key
        assert ack.status == "accepted"
        await receiver.wait_for(sub.item_ref, "completed")
        assert stats(env, "amr")["submissions"] == 1
    finally:
        await conn.aclose()


@pytest.mark.asyncio
async def test_outage_window_then_recovery(env, data, platform_key):
    now = time.time()
    set_faults(env, "si-pension", outages=[{"start": now - 1, "end": now + 1.0}])
    conn, sub = await _submit(env, data, platform_key, "si-pension")
    try:
        with pytest.raises(TransientError):
            await conn.submit(sub)
        await asyncio.sleep(max(0.0, now + 1.05 - time.time()))
        assert (await conn.submit(sub)).status == "accepted"
    finally:
        await conn.aclose()


@pytest.mark.asyncio
async def test_fail_next_then_retries_send_once(env, receiver, data, platform_key):
    set_faults(env, "si-unemployment", fail_next=2)
    conn, sub = await _submit(env, data, platform_key, "si-unemployment")
    try:
        failures = 0
        while True:
            try:
                ack = await conn.submit(sub)
                break
            except TransientError:
                failures += 1
        assert failures == 2 and ack.status == "accepted"
        await receiver.wait_for(sub.item_ref, "completed")
        s = stats(env, "si-unemployment")
        assert s["submissions"] == 1 and s["duplicates"] == 0 and s["faults_injected"] == 2
    finally:
        await conn.aclose()


@pytest.mark.asyncio
async def test_malformed_response_is_transient_and_replay_returns_same_reference(env, receiver, data, platform_key):
    set_faults(env, "seal-security", malformed_responses=True)
    conn, sub = await _submit(env, data, platform_key, "seal-security")
    try:
        with pytest.raises(TransientError) as err:
            await conn.submit(sub)
        assert err.value.code == "malformed_response"
        set_faults(env, "seal-security", malformed_responses=False)
        ack = await conn.submit(sub)
        done = await receiver.wait_for(sub.item_ref, "completed")
        assert done.reference == ack.reference
        s = stats(env, "seal-security")
        assert s["submissions"] == 1 and s["idempotent_replays"] == 1
    finally:
        await conn.aclose()


@pytest.mark.asyncio
@pytest.mark.parametrize("form", ["lean", "classic"])
async def test_duplicate_callbacks_share_event_ids(env, receiver, data, platform_key, form):
    set_form(env, "customs-fz", form)
    set_faults(env, "customs-fz", duplicate_callbacks=True)
    conn, sub = await _submit(env, data, platform_key, "customs-fz")
    callbacks = 4 if form == "classic" else 2  # accepted and completed twice, or (lean) completed twice
    try:
        await conn.submit(sub)
        await receiver.wait_for(sub.item_ref, "completed")
        for _ in range(200):
            if len(receiver.for_ref(sub.item_ref)) >= callbacks:
                break
            await asyncio.sleep(0.01)
        events = receiver.for_ref(sub.item_ref)
        assert len(events) == callbacks and len({e.event_id for e in events}) == callbacks // 2  # dedupe on event_id
    finally:
        await conn.aclose()


@pytest.mark.asyncio
async def test_late_callbacks(env, receiver, data, platform_key):
    set_faults(env, "xm-tax", late_callback_ms=300)
    conn, sub = await _submit(env, data, platform_key, "xm-tax")
    try:
        await conn.submit(sub)
        await asyncio.sleep(0.1)
        assert receiver.for_ref(sub.item_ref) == []
        await receiver.wait_for(sub.item_ref, "completed")
    finally:
        await conn.aclose()


@pytest.mark.asyncio
async def test_out_of_order_callbacks_carry_sequence(env, receiver, data, platform_key):
    set_form(env, "ytz-bank", "classic")  # an accepted callback to hold back (lean: it is in the answer)
    set_faults(env, "ytz-bank", out_of_order_callbacks=True)
    conn, sub = await _submit(env, data, platform_key, "ytz-bank")
    try:
        await conn.submit(sub)
        await receiver.wait_for(sub.item_ref, "accepted")
        events = receiver.for_ref(sub.item_ref)
        assert [e.outcome for e in events] == ["completed", "accepted"]
        assert max(events, key=lambda e: e.sequence).outcome == "completed"  # the receiver keeps the highest sequence
    finally:
        await conn.aclose()


@pytest.mark.asyncio
async def test_malformed_callbacks_are_refused_and_the_good_copy_arrives(env, receiver, data, platform_key):
    set_faults(env, "etax", malformed_callbacks=True)
    conn, sub = await _submit(env, data, platform_key, "etax")
    try:
        await conn.submit(sub)
        await receiver.wait_for(sub.item_ref, "completed")
        assert ("etax", "invalid_signature") in receiver.rejections
    finally:
        await conn.aclose()


@pytest.mark.asyncio
@pytest.mark.parametrize("form", ["lean", "classic"])
async def test_callbacks_retried_while_receiver_fails(env, receiver, data, platform_key, form):
    set_form(env, "seal-online", form)
    receiver.fail_next = 3
    conn, sub = await _submit(env, data, platform_key, "seal-online")
    try:
        await conn.submit(sub)
        await receiver.wait_for(sub.item_ref, "completed")
        s = stats(env, "seal-online")
        delivered = 2 if form == "classic" else 1  # lean: accepted travelled in the answer
        assert s["callback_attempts_failed"] >= 3 and s["callbacks_delivered"] == delivered
        assert s["callbacks_abandoned"] == 0 and (s["batches_delivered"] >= 1) == (form == "lean")
    finally:
        await conn.aclose()


def test_invalid_fault_settings_are_a_problem(env):
    r = httpx.patch(f"{env['sandbox'].url}/sandbox/simulators/etax/faults", json={"latency_ms": "slow"})
    assert r.status_code == 422 and r.json()["code"] == "invalid_faults"
    for bad in ({"error_rate": 2}, {"latency": 5}, {"error_status": 418}):
        r = httpx.patch(f"{env['sandbox'].url}/sandbox/simulators/etax/faults", json=bad)
        assert r.status_code == 422, bad
    assert httpx.get(f"{env['sandbox'].url}/sandbox/simulators/etax/faults").json() == {}
    r = httpx.patch(f"{env['sandbox'].url}/sandbox/simulators/nope/faults", json={})
    assert r.status_code == 404 and r.json()["code"] == "unknown_system"


@pytest.mark.asyncio
@pytest.mark.parametrize("form", ["lean", "classic"])
async def test_processing_time_accepts_first_then_completes_later(env, receiver, data, platform_key, form):
    set_form(env, "amr", form)
    set_faults(env, "amr", processing_ms=400)
    conn, sub = await _submit(env, data, platform_key, "amr")
    try:
        ack = await conn.submit(sub)
        await receiver.wait_for(sub.item_ref, "in_progress")
        called_back = [e.outcome for e in receiver.for_ref(sub.item_ref)]
        if form == "classic":
            assert ack.event is None and called_back == ["accepted", "in_progress"]
        else:
            assert ack.event is not None and ack.event.sequence == 1 and called_back == ["in_progress"]
        assert (await conn.query(item_ref=sub.item_ref)).status == "in_progress"
        done = await receiver.wait_for(sub.item_ref, "completed")
        assert done.sequence == 3
    finally:
        await conn.aclose()
