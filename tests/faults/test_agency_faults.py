"""Agency systems misbehave: outages, and duplicate, late, out-of-order and replayed callbacks.

The platform runs with the simulators mounted in-process (the embedded test environment,
on PostgreSQL) so the test can drive their fault switches and sign callbacks with an
agency's key, as an agency re-sending a message would. Outcome: items retry with backoff
through an outage and complete with no manual step; each agency event is applied once, an
item's sequence never goes backwards, a replayed token is refused, and the final states
are right.
"""

from __future__ import annotations

import asyncio
import json
import uuid

import httpx
import msgspec
import pytest

from backend.cases import states as st
from backend.cases.tables import CallbackInbox, CaseDocument, CaseEvent, CaseFile, CaseItem
from backend.connectors.signing import SIGNATURE_HEADER
from backend.identity.actor import Actor
from backend.jobs.queue import BACKOFF_BASE_SECONDS, BACKOFF_CAP_SECONDS
from backend.jobs.tables import Job
from backend.sandbox.mount import SIMULATORS_STATE_KEY
from tests.cases.live import serve_platform, wait_until
from tests.faults.support import MIN_SUBMISSIONS_PER_CASE, ready_draft

pytestmark = [pytest.mark.postgres]

CASES = 5  # per phase
OUTAGE_SECONDS = 8.0


@pytest.fixture
async def live(pg_url, tmp_path):
    """The platform with its simulators, over real HTTP on loopback, on a clean PostgreSQL database."""
    from tests.cases.conftest import clean_database_at

    await clean_database_at(pg_url)
    async with serve_platform(tmp_path, database_url=pg_url, poll_seconds=2, worker_idle_seconds=1) as app:
        yield app


async def submit_cases(platform, first: int, count: int) -> list[str]:
    ids = []
    for n in range(first, first + count):
        case_id, person = await ready_draft(platform, n)
        await platform.cases.submit(Actor(id=person), case_id, f"agency-faults-{n}")
        ids.append(case_id)
    return ids


async def all_completed(ids: list[str]) -> bool:
    rows = await CaseFile.select(CaseFile.status).where(CaseFile.public_id.is_in(ids))
    return len(rows) == len(ids) and all(r["status"] == st.CASE_COMPLETED for r in rows)


async def applied_outcomes(item_ref: str) -> list[tuple[str, int]]:
    """(event type, agency sequence) of every outcome applied to an item, in timeline order."""
    rows = (
        await CaseEvent.select(CaseEvent.type, CaseEvent.data)
        .where(CaseEvent.item_ref == item_ref)
        .order_by(CaseEvent.seq)
    )
    return [
        (r["type"], json.loads(r["data"]).get("sequence", 0))
        for r in rows
        if r["type"].startswith("item.") and r["type"] not in (st.ITEM_QUEUED, st.ITEM_SENT, st.ITEM_IGNORED)
    ]


def most_attempts_within(seconds: float) -> int:
    """The most attempts a send can make in ``seconds`` when each retry waits at least the smallest
    backoff (half its ceiling) and the agency's one-second Retry-After floor."""
    attempts, waited = 1, 0.0
    while True:
        ceiling = min(BACKOFF_CAP_SECONDS, BACKOFF_BASE_SECONDS * 2 ** (attempts - 1))
        waited += max(1.0, ceiling / 2)
        if waited > seconds:
            return attempts
        attempts += 1


async def test_agency_outage_then_misbehaving_callbacks(live):
    platform = live.state.platform
    engines = live.state[SIMULATORS_STATE_KEY]
    first_systems = ["etax", "xm-tax", "amr"]  # tax clearance and registration: everything else waits for them

    # 1. outage: the agencies that go first answer 503 to everything, then come back
    for code in first_systems:
        engines[code].set_faults({"down": True})
    loop = asyncio.get_running_loop()
    outage_started = loop.time()
    outage_ids = await submit_cases(platform, 0, CASES)
    await wait_until(
        lambda: asyncio.sleep(0, result=sum(engines[c].stats.faults_injected for c in first_systems) >= 2 * CASES),
        timeout=30,
    )
    await asyncio.sleep(max(0.0, outage_started + OUTAGE_SECONDS - loop.time()))  # the outage lasts this long

    async def sends_in_flight() -> list[int] | None:
        rows = await Job.select(Job.attempts).where(
            (Job.kind == "cases.send") & (Job.status.is_in(["pending", "running"]))
        )
        attempts = [j["attempts"] for j in rows]
        return attempts if attempts and max(attempts) >= 2 else None

    attempts = await wait_until(sends_in_flight, timeout=60, what="a send retried")  # retried, not given up
    # With backoff the agency's "Retry-After: 1" is only a floor, or an outage of a dozen seconds
    # would use up every attempt and leave items 推送失败 for staff to re-drive. The bound follows
    # from the time that really passed, so a slow machine (fewer attempts) cannot fail it.
    assert max(attempts) <= most_attempts_within(loop.time() - outage_started), attempts
    assert await CaseItem.count().where(CaseItem.status == st.COMPLETED) == 0
    for code in first_systems:
        engines[code].set_faults({"down": False})
    await wait_until(lambda: all_completed(outage_ids), timeout=90)

    # 2. callbacks: every agency sends each event twice, late, and all but the final one after the final one
    for engine in engines.values():
        engine.set_faults(
            {
                "duplicate_callbacks": True,
                "late_callback_ms": 150,
                "out_of_order_callbacks": True,
                "processing_ms": 100,
                "malformed_callbacks": True,
            }
        )
    messy_ids = await submit_cases(platform, CASES, CASES)
    await wait_until(lambda: all_completed(messy_ids), timeout=120)
    for engine in engines.values():
        engine.set_faults({}, replace=True)

    items = await CaseItem.select(CaseItem.ref, CaseItem.status, CaseItem.last_sequence).where(
        CaseItem.system != "platform"
    )
    assert items and {i["status"] for i in items} == {st.COMPLETED}
    for item in items:
        outcomes = await applied_outcomes(item["ref"])
        assert [t for t, _ in outcomes].count("item.completed") == 1, (item["ref"], outcomes)  # applied once
        sequences = [s for _, s in outcomes if s]
        assert sequences == sorted(set(sequences)), (item["ref"], outcomes)  # never backwards, never twice
        assert outcomes[-1][0] == "item.completed", (item["ref"], outcomes)  # nothing moved it after completion
    ignored = await CaseEvent.count().where(CaseEvent.type == st.ITEM_IGNORED)
    assert ignored > 0  # the out-of-order events did arrive, and were recorded without effect
    delivered = sum(e.stats.callbacks_delivered for e in engines.values())
    # The simulators' lean form reports 受理 in their answers: the inbox's accepted events came that
    # way, every other one by callback. Duplicates arrived; each event is stored once.
    called_back = [r for r in await CallbackInbox.select(CallbackInbox.body) if '"outcome":"accepted"' not in r["body"]]
    assert delivered > len(called_back)

    # 3. replays: an agency re-sends stored events (fresh tokens), and someone replays a captured request
    documents = await CaseDocument.count()
    async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{platform.settings.port}") as client:
        inbox = await CallbackInbox.select(CallbackInbox.system, CallbackInbox.body).where(
            CallbackInbox.applied.eq(True)
        )
        completed = [row for row in inbox if json.loads(row["body"])["outcome"] == "completed"][:3]
        accepted = [row for row in inbox if json.loads(row["body"])["outcome"] == "accepted"][:3]
        assert completed and accepted
        for row in completed:
            body = row["body"].encode()
            signature, _ = engines[row["system"]].signer.sign(body)
            headers = {SIGNATURE_HEADER: signature, "Content-Type": "application/json"}
            again = await client.post(f"/api/v1/callbacks/{row['system']}", content=body, headers=headers)
            assert again.status_code == 200 and again.json()["status"] == "duplicate", again.text
            captured = await client.post(f"/api/v1/callbacks/{row['system']}", content=body, headers=headers)
            assert captured.status_code == 401 and captured.json()["code"] == "callback_replayed", captured.text
        for row in accepted:  # an old event under a new id: recorded, ignored, the item stays completed
            event = json.loads(row["body"])
            event["event_id"] = uuid.uuid4().hex
            body = msgspec.json.encode(event)
            signature, _ = engines[row["system"]].signer.sign(body)
            late = await client.post(
                f"/api/v1/callbacks/{row['system']}",
                content=body,
                headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"},
            )
            assert late.status_code == 200 and late.json()["status"] == "ignored", late.text
            item = await CaseItem.select(CaseItem.status).where(CaseItem.ref == event["item_ref"]).first()
            assert item["status"] == st.COMPLETED
    assert await CaseDocument.count() == documents  # no result document stored twice
    assert await all_completed(outage_ids + messy_ids)
    assert await Job.count().where(Job.status == "dead") == 0
    stats = [e.stats for e in engines.values()]
    assert sum(s.duplicates for s in stats) == 0, [s.duplicate_item_refs for s in stats if s.duplicates]
    assert sum(s.submissions for s in stats) >= 2 * CASES * MIN_SUBMISSIONS_PER_CASE
