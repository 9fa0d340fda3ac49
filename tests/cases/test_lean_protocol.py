"""The interface standard's two optional lean forms, over real HTTP, beside the classic form.

- 受理 in the answer: the simulated agencies report ``accepted`` in their synchronous answer
  (``Ack.event``); the platform applies it as the callback it replaces, once per ``event_id``.
- Batch callbacks: one signed ``{"events": [...]}`` for items of any case routed to one system;
  each event is authorized against that system, applied once and answered on its own.

The platform runs with its simulators mounted (the embedded test environment) on PostgreSQL and
on SQLite, served by uvicorn on loopback; the simulators use the lean forms by default and are
switched to the classic form over their admin API (``PUT /sim/<system>/admin/protocol``).
"""

from __future__ import annotations

import json
import uuid

import httpx
import msgspec
import pytest

from backend.cases import states as st
from backend.cases.tables import CallbackInbox, CaseEvent, CaseFile, CaseItem
from backend.connectors.base import CallbackBatch, CallbackResult
from backend.connectors.signing import SIGNATURE_HEADER
from backend.identity.actor import Actor
from backend.sandbox.mount import SIMULATORS_STATE_KEY
from backend.sandbox.simulator import FaultConfig
from tests.cases.live import serve_platform, wait_until
from tests.faults.support import ready_draft

SLOW = 3_600_000  # ms: the simulated agency accepts the item and then takes an hour


@pytest.fixture(params=["postgres", "sqlite"])
async def live(request, tmp_path):
    """The platform with its simulators, over real HTTP on loopback, on a clean database."""
    if request.param == "postgres":
        from tests.cases.conftest import clean_database_at

        url = request.getfixturevalue("pg_url")
        await clean_database_at(url)
        serving = serve_platform(tmp_path, database_url=url, poll_seconds=30, worker_idle_seconds=1)
    else:
        serving = serve_platform(tmp_path, poll_seconds=30, worker_idle_seconds=1)
    async with serving as app, httpx.AsyncClient(base_url=app.state.platform.settings.base_url, timeout=60) as client:
        yield app, client


async def submit_case(platform, n: int) -> str:
    case_id, person = await ready_draft(platform, n)
    await platform.cases.submit(Actor(id=person), case_id, f"lean-{n}-{uuid.uuid4().hex[:6]}")
    return case_id


async def case_completed(case_id: str) -> bool:
    row = await CaseFile.select(CaseFile.status).where(CaseFile.public_id == case_id).first()
    return row is not None and row["status"] == st.CASE_COMPLETED


async def outcome_sources(case_id: str) -> dict[str, set[str]]:
    """Event type → where the agency's outcomes came from (answer | callback | poll) for one case."""
    case = await CaseFile.select(CaseFile.id).where(CaseFile.public_id == case_id).first()
    rows = await CaseEvent.select(CaseEvent.type, CaseEvent.data, CaseEvent.system).where(
        (CaseEvent.case_file == case["id"]) & (CaseEvent.system != "platform")
    )
    out: dict[str, set[str]] = {}
    for r in rows:
        source = json.loads(r["data"] or "{}").get("source")
        if source:
            out.setdefault(r["type"], set()).add(source)
    return out


async def test_a_case_completes_with_the_lean_forms_and_with_the_classic_form(live):
    app, client = live
    platform = app.state.platform
    engines = app.state[SIMULATORS_STATE_KEY]
    agencies = [code for code in engines if code not in ("haochaping", "sms")]

    lean_case = await submit_case(platform, 0)
    await wait_until(lambda: case_completed(lean_case), timeout=120, what="lean case completed")
    sources = await outcome_sources(lean_case)
    assert sources["item.accepted"] == {"answer"}, sources  # 受理 came in the answers, no accepted callback
    assert sources["item.completed"] == {"callback"}, sources
    batches = sum(engines[c].stats.batches_delivered for c in agencies)
    assert batches > 0 and all(engines[c].stats.callbacks_abandoned == 0 for c in agencies)

    for code in agencies:  # every agency back to the classic form, over the simulators' admin API
        r = await client.put(f"/sim/{code}/admin/protocol", json={"sync_accept": False, "batch_callbacks": False})
        assert r.status_code == 200 and r.json() == {"sync_accept": False, "batch_callbacks": False}, r.text
    try:
        classic_case = await submit_case(platform, 1)
        await wait_until(lambda: case_completed(classic_case), timeout=120, what="classic case completed")
    finally:
        for code in agencies:
            await client.put(f"/sim/{code}/admin/protocol", json={})
    sources = await outcome_sources(classic_case)
    assert sources["item.accepted"] == {"callback"} and sources["item.completed"] == {"callback"}, sources
    assert sum(engines[c].stats.batches_delivered for c in agencies) == batches  # no batch in the classic form
    accepted = await CallbackInbox.select(CallbackInbox.body)
    assert sum(json.loads(r["body"])["outcome"] == "accepted" for r in accepted) >= 2 * 2  # both forms kept theirs


def event(item: dict, outcome: str = "completed", sequence: int = 90, system: str = "amr") -> CallbackResult:
    return CallbackResult(
        event_id=f"evt-{uuid.uuid4().hex}",
        reference=item.get("reference") or "R",
        item_ref=item["ref"],
        item_code=item["code"],
        system=system,
        outcome=outcome,  # type: ignore[arg-type]
        sequence=sequence,
        occurred_at="2026-11-26T08:00:00+08:00",
        message="办结",
    )


async def test_a_batch_of_events_of_several_cases_applies_each_event_once(live):
    app, client = live
    platform = app.state.platform
    engines = app.state[SIMULATORS_STATE_KEY]
    engines["amr"].faults = FaultConfig(processing_ms=SLOW)  # amr keeps the items in hand: the batch moves them
    try:
        cases = [await submit_case(platform, n) for n in (2, 3)]

        async def amr_items_in_hand() -> list[dict] | None:
            rows = await CaseItem.select(CaseItem.ref, CaseItem.code, CaseItem.reference, CaseItem.status).where(
                (CaseItem.system == "amr") & CaseItem.status.is_in([st.ACCEPTED, st.IN_PROGRESS])
            )
            return rows if len(rows) == 2 else None

        amr_items = await wait_until(amr_items_in_hand, timeout=120, what="both amr items accepted")
        other = await CaseItem.select(CaseItem.ref, CaseItem.code, CaseItem.reference, CaseItem.status).where(
            (CaseItem.system != "amr") & (CaseItem.system != "platform")
        )
        first, second = (event(i) for i in amr_items)
        events = [
            first,
            second,  # an item of the other case
            first,  # the same event twice in one batch
            event(other[0]),  # an item routed to etax: amr may not move it
            event({"ref": "NO-SUCH-ITEM", "code": "REG-DEREG"}),
            event(amr_items[0], system="etax"),  # names another system
        ]
        body = msgspec.json.encode(CallbackBatch(events=events))
        signature, _ = engines["amr"].signer.sign(body)
        headers = {SIGNATURE_HEADER: signature, "Content-Type": "application/json"}
        answer = await client.post("/api/v1/callbacks/amr", content=body, headers=headers)
        assert answer.status_code == 200, answer.text
        assert [(r["status"], r.get("code")) for r in answer.json()["results"]] == [
            ("applied", None),
            ("applied", None),
            ("duplicate", None),
            ("refused", "item_not_routed_to_system"),
            ("refused", "unknown_item"),
            ("refused", "wrong_system"),
        ]
        assert [r["event_id"] for r in answer.json()["results"]] == [e.event_id for e in events]
        stored = CallbackInbox.key.is_in([f"amr:{e.event_id}" for e in events])
        assert await CallbackInbox.count().where(stored) == 2  # the two applied events; nothing refused is kept

        # The agency sends the batch again (freshly signed): every event settled already, nothing applied twice.
        again = await client.post(
            "/api/v1/callbacks/amr",
            content=body,
            headers={**headers, SIGNATURE_HEADER: engines["amr"].signer.sign(body)[0]},
        )
        assert again.status_code == 200, again.text
        assert [r["status"] for r in again.json()["results"]][:3] == ["duplicate"] * 3
        assert [r["status"] for r in again.json()["results"]][3:] == ["refused"] * 3
        replayed = await client.post("/api/v1/callbacks/amr", content=body, headers=headers)  # the captured request
        assert replayed.status_code == 401 and replayed.json()["code"] == "callback_replayed", replayed.text
        assert await CallbackInbox.count().where(stored) == 2

        for item in amr_items:
            row = (
                await CaseItem.select(CaseItem.status, CaseItem.last_sequence)
                .where(CaseItem.ref == item["ref"])
                .first()
            )
            assert row == {"status": st.COMPLETED, "last_sequence": 90}
            completions = await CaseEvent.count().where(
                (CaseEvent.item_ref == item["ref"]) & (CaseEvent.type == "item.completed")
            )
            assert completions == 1
        not_amrs = await CaseEvent.count().where((CaseEvent.item_ref == other[0]["ref"]) & (CaseEvent.actor == "amr"))
        assert not_amrs == 0  # amr's genuine signature moved nothing of another agency's item
        spanned = await CaseItem.select(CaseItem.case_file).where(CaseItem.ref.is_in([i["ref"] for i in amr_items]))
        assert len({r["case_file"] for r in spanned}) == len(cases) == 2  # the batch spanned two cases
    finally:
        engines["amr"].faults = FaultConfig()
