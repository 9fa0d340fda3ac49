"""Finding 1 (high): one agency system could change another system's item.

An amr-signed callback to ``POST /api/v1/callbacks/amr`` naming ``<case>.TAX-UNIFIED`` completed
the tax item with amr's document as the tax result: the connector checked only that the body's
``system`` matched the URL, and the dispatcher never checked that the item is routed to that
system. Every system is tried here, each with its own genuine signature, against an item routed
to another system: the answer is 403 ``item_not_routed_to_system`` and nothing changes.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import time
import uuid

import msgspec
import pytest

from backend.cases.tables import CallbackInbox, CallbackNonce, CaseDocument, CaseItem
from backend.connectors.base import CallbackResult, ResultDocument
from backend.connectors.signing import SIGNATURE_HEADER
from backend.sandbox.mount import SIMULATORS_STATE_KEY
from backend.sandbox.simulator import FaultConfig
from tests.security.support import OTHER_USCC, bearer, ready_draft, session_token, submit

SLOW = 3_600_000  # ms: the simulated registration authority accepts the item and then takes an hour


@pytest.fixture(scope="module")
async def open_case(live):
    """A submitted case whose registration item (amr) is in hand and whose tax item is done."""
    engines = live.app.state[SIMULATORS_STATE_KEY]
    engines["amr"].faults = FaultConfig(processing_ms=SLOW)
    token = await session_token(live.client, "applicant-p002")
    try:
        case_id = await ready_draft(live.client, token, OTHER_USCC)
        await submit(live.client, token, case_id, f"routing-{case_id}")
        deadline = time.monotonic() + 60
        while True:
            view = (await live.client.get(f"/api/v1/cases/{case_id}", headers=bearer(token))).json()
            amr = next(i for i in view["items"] if i["system"] == "amr")
            if amr["status"] == "in_progress":
                break
            assert time.monotonic() < deadline, amr
            await asyncio.sleep(0.3)
        yield view
    finally:
        engines["amr"].faults = FaultConfig()


async def _state(refs: list[str]) -> dict:
    return {
        "items": await CaseItem.select(
            CaseItem.ref, CaseItem.status, CaseItem.last_sequence, CaseItem.result, CaseItem.message
        ).where(CaseItem.ref.is_in(refs)),
        "documents": await CaseDocument.count().where(CaseDocument.item_ref.is_in(refs)),
        "inbox": await CallbackInbox.count(),
        "nonces": await CallbackNonce.count(),
    }


def _completion(item: dict, system: str) -> bytes:
    content = f"{system} forged result".encode()
    return msgspec.json.encode(
        CallbackResult(
            event_id=f"evt-{uuid.uuid4().hex}",
            reference=item["reference"] or "R",
            item_ref=item["ref"],
            item_code=item["code"],
            system=system,
            outcome="completed",
            sequence=99,
            occurred_at="2026-11-26T08:00:00+08:00",
            message="办结",
            documents=[
                ResultDocument(
                    name="result.pdf",
                    media_type="application/pdf",
                    sha256=hashlib.sha256(content).hexdigest(),
                    content_base64=base64.b64encode(content).decode(),
                )
            ],
        )
    )


async def test_finding01_a_system_cannot_change_an_item_routed_to_another_system(live, open_case, caplog):
    items = open_case["items"]
    amr_item = next(i for i in items if i["system"] == "amr")
    tax_item = next(i for i in items if i["code"].startswith("TAX-"))
    engines = live.app.state[SIMULATORS_STATE_KEY]
    systems = sorted(live.platform.connectors)
    assert {"amr", tax_item["system"]} <= set(systems) and len(systems) >= 9, systems
    refs = [i["ref"] for i in items]
    before = await _state(refs)
    for system in systems:
        # the registration item while it is open; for amr itself, the (finished) tax item
        target = amr_item if system != "amr" else tax_item
        body = _completion(target, system)
        signature, _ = engines[system].signer.sign(body)
        answer = await live.client.post(
            f"/api/v1/callbacks/{system}",
            content=body,
            headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature},
        )
        assert answer.status_code == 403, (system, answer.status_code, answer.text)
        problem = answer.json()
        assert answer.headers["content-type"].startswith("application/problem+json"), system
        assert problem["code"] == "item_not_routed_to_system", (system, problem)
    assert await _state(refs) == before
    logged = [r for r in caplog.records if r.getMessage() == "callback names an item routed to another system"]
    assert {r.system for r in logged} == set(systems), [vars(r) for r in logged]
