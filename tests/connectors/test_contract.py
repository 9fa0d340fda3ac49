"""Contract tests: every connector against its simulator, over real HTTP."""

from __future__ import annotations

import msgspec
import pytest
from connectors_support import SYSTEMS, callback_url, make_connector, stats

from backend.connectors.base import PermanentError
from backend.connectors.registry import all_specs
from backend.connectors.samples import pick_enterprises, submission_for

pytestmark = pytest.mark.usefixtures("reset_sims")


@pytest.mark.asyncio
@pytest.mark.parametrize("system", SYSTEMS)
async def test_submit_completes_with_signed_callbacks(env, receiver, data, platform_key, system):
    spec = all_specs()[system]
    ok, _ = pick_enterprises(spec, data)
    conn = make_connector(env, system, platform_key)
    try:
        sub = submission_for(spec, ok, data, callback_url(env, system))
        ack = await conn.submit(sub)
        assert ack.status == "accepted" and ack.reference and ack.reference.startswith(spec.reference_prefix)
        accepted = ack.event  # lean form (the simulators' default): 受理 in the answer, verified with it
        assert accepted is not None and accepted.outcome == "accepted" and accepted.reference == ack.reference
        done = await receiver.wait_for(sub.item_ref, "completed")
        assert "accepted" not in [r.outcome for r in receiver.for_ref(sub.item_ref)]  # no accepted callback too
        assert done.reference == ack.reference and done.sequence > accepted.sequence
        assert done.documents and all(d.sha256 and d.content_base64 for d in done.documents)
        status = await conn.query(reference=ack.reference)
        assert status.status == "completed" and status.item_ref == sub.item_ref
        assert (await conn.query(item_ref=sub.item_ref)).reference == ack.reference
    finally:
        await conn.aclose()


@pytest.mark.asyncio
@pytest.mark.parametrize("system", SYSTEMS)
async def test_business_rejection_is_a_result(env, receiver, data, platform_key, system):
    spec = all_specs()[system]
    _, blocked = pick_enterprises(spec, data)
    assert blocked is not None
    conn = make_connector(env, system, platform_key)
    try:
        sub = submission_for(spec, blocked, data, callback_url(env, system))
        ack = await conn.submit(sub)
        assert ack.status == "accepted"
        rejected = await receiver.wait_for(sub.item_ref, "rejected")
        assert rejected.reasons and all(r.code and r.message for r in rejected.reasons)
        pre = await conn.precheck(blocked.uscc, sub.item_code, blocked.region)
        assert pre.blockers
    finally:
        await conn.aclose()


@pytest.mark.asyncio
@pytest.mark.parametrize("system", ["etax", "customs-xm", "ytz-bank"])
async def test_idempotent_replay_and_duplicate_detection(env, receiver, data, platform_key, system):
    spec = all_specs()[system]
    ok, _ = pick_enterprises(spec, data)
    conn = make_connector(env, system, platform_key)
    try:
        sub = submission_for(spec, ok, data, callback_url(env, system))
        first = await conn.submit(sub)
        again = await conn.submit(sub)  # same key: same answer, no second effect
        assert again.reference == first.reference and not again.duplicate
        await receiver.wait_for(sub.item_ref, "completed")
        s = stats(env, system)
        assert (s["submissions"], s["idempotent_replays"], s["duplicates"]) == (1, 1, 0)
        # the same item under a new key is a second send: answered with the same reference, counted
        resent = await conn.submit(msgspec.structs.replace(sub, idempotency_key="another-key"))
        assert resent.reference == first.reference and resent.duplicate
        s = stats(env, system)
        assert s["duplicates"] == 1 and s["duplicate_item_refs"] == [sub.item_ref] and s["submissions"] == 1
        # the same key with another body is refused, never silently accepted
        other = submission_for(spec, ok, data, callback_url(env, system), idempotency_key=sub.idempotency_key)
        with pytest.raises(PermanentError) as err:
            await conn.submit(other)
        assert err.value.code == "idempotency_key_reused"
    finally:
        await conn.aclose()


@pytest.mark.asyncio
async def test_invalid_submission_rejected_with_field_reasons(env, data, platform_key):
    spec = all_specs()["amr"]
    ok, _ = pick_enterprises(spec, data)
    conn = make_connector(env, "amr", platform_key)
    try:
        sub = submission_for(spec, ok, data, callback_url(env, "amr"))
        bad = msgspec.structs.replace(
            sub, payload={k: v for k, v in sub.payload.items() if k != "tax_clearance_reference"}
        )
        with pytest.raises(PermanentError):  # refused locally: a platform defect, not an agency decision
            await conn.submit(bad)
        # bypass the local check: the simulator itself rejects it with field reasons
        status, body, _ = await conn._call("POST", spec.submit_path, conn.wire_body(bad), idempotency_key="k-invalid")
        ack = conn._ack_from(status, body)
        assert ack.status == "rejected" and any(r.field == "payload.tax_clearance_reference" for r in ack.reasons)
        wrong = msgspec.structs.replace(
            sub, uscc=sub.uscc[:-1] + ("0" if sub.uscc[-1] != "0" else "1"), callback_url="ftp://x"
        )
        status, body, _ = await conn._call(
            "POST", spec.submit_path, conn.wire_body(wrong), idempotency_key="k-invalid-2"
        )
        fields = {r.field for r in conn._ack_from(status, body).reasons}
        assert {"uscc", "callback_url"} <= fields
    finally:
        await conn.aclose()
