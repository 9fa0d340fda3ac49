"""Finding 3 (medium): a mandate for some matters gave the whole case.

With a mandate for ``"items": ["SEAL"]`` an agent could PATCH the draft, start a new draft for the
enterprise and withdraw: the case context asked only whether a mandate existed. What a partial
mandate (授权委托 for some items) allows is decided in ``CaseService._authorize``: the agent reads
the case narrowed to the covered items (their status, documents and timeline; nothing of the merged
application: answers, form, materials) and may correct those items; everything that binds the whole
application (starting a draft, editing it, uploading, signing, pre-check, submitting, withdrawing,
downloading its materials) is 403 ``mandate_scope``, or 403 ``not_authorised_for_enterprise`` for a
new draft.
"""

from __future__ import annotations

import pytest

from tests.cases.support import BASE_ANSWERS, TINY_PDF
from tests.security.support import OTHER_USCC, bearer, ready_draft, session_token, submit, wait_for_status

AGENT_PERSONA = "applicant-p001"  # 陈建华, not on the record of OTHER_USCC
AGENT_ID_NUMBER = "350102196501010000"
COVERED = "TAX-UNIFIED"


@pytest.fixture(scope="module")
async def partial(live):
    """A submitted (completed) case and a draft of OTHER_USCC, and an agent holding a mandate for the tax item."""
    legal = await session_token(live.client, "applicant-p002")  # OTHER_USCC's legal representative
    agent = await session_token(live.client, AGENT_PERSONA)
    case_id = await ready_draft(live.client, legal, OTHER_USCC)
    await submit(live.client, legal, case_id, f"partial-{case_id}")
    done = await wait_for_status(live.client, legal, case_id, {"completed", "refused"})
    draft = (await live.client.post("/api/v1/cases", json={"uscc": OTHER_USCC}, headers=bearer(legal))).json()
    granted = await live.client.post(
        "/api/v1/mandates",
        json={"uscc": OTHER_USCC, "agent_id_number": AGENT_ID_NUMBER, "agent_name": "陈建华", "items": [COVERED]},
        headers=bearer(legal),
    )
    assert granted.status_code == 201, granted.text
    try:
        yield {"legal": legal, "agent": agent, "case": done, "draft": draft}
    finally:
        await live.client.post(f"/api/v1/mandates/{granted.json()['mandate_id']}/revoke", headers=bearer(legal))


async def test_finding03_partial_mandate_cannot_bind_the_whole_application(live, partial):
    agent, draft = bearer(partial["agent"]), partial["draft"]
    base = f"/api/v1/cases/{draft['id']}"
    created = await live.client.post("/api/v1/cases", json={"uscc": OTHER_USCC}, headers=agent)
    assert created.status_code == 403, created.text
    attempts = {
        "PATCH draft": await live.client.patch(
            base, json={"answers": BASE_ANSWERS, "version": draft["version"]}, headers=agent
        ),
        "upload": await live.client.post(
            f"{base}/materials",
            data={"code": "M"},
            files={"file": ("m.pdf", TINY_PDF, "application/pdf")},
            headers=agent,
        ),
        "sign": await live.client.post(f"{base}/signatures", headers=agent),
        "signatures": await live.client.get(f"{base}/signatures", headers=agent),
        "precheck": await live.client.post(f"{base}/precheck", headers=agent),
        "submit": await live.client.post(f"{base}/submit", headers={**agent, "Idempotency-Key": f"p-{draft['id']}"}),
        "withdraw": await live.client.post(f"{base}/withdraw", headers=agent),
    }
    for what, response in attempts.items():
        assert response.status_code == 403 and response.json()["code"] == "mandate_scope", (what, response.text)
    legal_view = (await live.client.get(base, headers=bearer(partial["legal"]))).json()
    assert legal_view["status"] == "draft" and legal_view["version"] == draft["version"]


async def test_finding03_partial_mandate_sees_only_its_items(live, partial):
    agent, case = bearer(partial["agent"]), partial["case"]
    base = f"/api/v1/cases/{case['id']}"
    view = (await live.client.get(base, headers=agent)).json()
    assert view["items"] and {i["code"] for i in view["items"]} == {COVERED}
    assert view["form_data"] == {} and view["answers"] == {} and not view.get("materials")
    assert "legal_rep_id_number" not in str(view) and partial["case"]["form_data"]["legal_rep_id_number"] not in str(
        view
    )
    refs = {i["ref"] for i in view["items"]}
    assert all(e["item_ref"] in refs for e in view["timeline"])
    status = (await live.client.get(f"{base}/status", headers=agent)).json()
    assert {i["code"] for i in status["items"]} == {COVERED}
    # its item's documents, not the others'
    for item in case["items"]:
        for document in item["documents"]:
            got = await live.client.get(f"{base}/documents/{document['id']}", headers=agent)
            assert got.status_code == (200 if item["code"] == COVERED else 404), (item["code"], got.status_code)
    material = await live.client.get(f"{base}/materials/{case['materials'][0]['id']}", headers=agent)
    assert material.status_code == 403
    other = next(i["code"] for i in case["items"] if i["code"] != COVERED)
    correction = await live.client.post(
        f"{base}/items/{other}/correction", json={"form_data": {}, "message": "补正"}, headers=agent
    )
    assert correction.status_code == 403 and correction.json()["code"] == "mandate_scope", correction.text


async def test_finding03_class_partial_mandate_rates_only_its_items(live, partial):
    """Same class elsewhere: rating an item (一事一评) asked only whether the agent could see the case."""
    agent, case = bearer(partial["agent"]), partial["case"]
    other = next(i for i in case["items"] if i["code"] != COVERED and i["status"] == "completed")
    refused = await live.client.post(
        "/api/v1/ratings/matters", json={"case_id": case["id"], "item_ref": other["ref"], "level": 5}, headers=agent
    )
    assert refused.status_code == 403 and refused.json()["code"] == "mandate_scope", refused.text
    covered = next(i for i in case["items"] if i["code"] == COVERED)
    rated = await live.client.post(
        "/api/v1/ratings/matters", json={"case_id": case["id"], "item_ref": covered["ref"], "level": 5}, headers=agent
    )
    assert rated.status_code == 201, rated.text


async def test_a_partial_mandate_is_told_in_words_what_it_does_not_cover(live, partial):
    """The enterprise's record binds the whole application: refused, in words (it said "事项 None")."""
    agent = bearer(partial["agent"])
    said = {}
    for lang in ("zh-CN", "en"):
        refused = await live.client.get(f"/api/v1/enterprises/{OTHER_USCC}", headers={**agent, "Accept-Language": lang})
        assert refused.status_code == 403, refused.text
        said[lang] = refused.json()["detail"]
    assert "部分事项" in said["zh-CN"] and "some matters" in said["en"]
    assert not any("None" in text for text in said.values())
