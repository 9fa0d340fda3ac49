"""Finding 2 (medium): any staff member could end a case during its publicity period.

Tax staff of another city, who get 404 on the case itself, could ``POST /api/v1/cases/{id}/objections``:
that rejected the notice stage, cancelled the waiting items, and answered with the whole case as
the platform sees it (the legal representative's ID number, accounts, phone), unaudited. Now only
staff of an agency with an item in the case, within their regions, may object; everyone else gets
the answer they get on the case itself (404) or 403, and nothing changes; the objector gets their
own (staff) view and the objection is in the staff access audit.
"""

from __future__ import annotations

import asyncio
import time

import pytest

from backend.cases.dispatch import _item_maps
from backend.identity import access_records
from tests.cases.support import BASE_ANSWERS
from tests.security.support import bearer, ready_draft, session_token, submit

SIMPLIFIED_USCC = "91350104MA02041309"  # 福州 (350104), simplified route: a publicity period runs
LEGAL_REP = "person-P004"


@pytest.fixture(scope="module")
async def noticed_case(live) -> dict:
    """A submitted simplified-route case whose publicity period is open."""
    token = await session_token(live.client, LEGAL_REP)
    case_id = await ready_draft(live.client, token, SIMPLIFIED_USCC, {**BASE_ANSWERS, "route": "simplified"})
    await submit(live.client, token, case_id, f"objection-{case_id}")
    deadline = time.monotonic() + 60
    while True:
        view = (await live.client.get(f"/api/v1/cases/{case_id}", headers=bearer(token))).json()
        notice = next(i for i in view["items"] if i["code"] == "NOTICE")
        if notice["status"] == "in_progress":
            return {"id": case_id, "owner": token, "view": view}
        assert time.monotonic() < deadline, notice
        await asyncio.sleep(0.3)


def _statuses(view: dict) -> dict[str, str]:
    return {i["ref"]: i["status"] for i in view["items"]}


async def test_finding02_only_an_agency_with_an_item_in_region_may_object(live, noticed_case):
    case_id, owner = noticed_case["id"], noticed_case["owner"]
    before = _statuses((await live.client.get(f"/api/v1/cases/{case_id}", headers=bearer(owner))).json())
    refused = {
        "agency_other": {404},  # 厦门 tax: no item here, 404 on the case itself
        "window_staff": {404},
        "stranger": {404},
        "admin": {403},  # runs the platform, is not a department with standing
        "this_case_owner": {403},  # its legal representative: staff record objections
        "tester": {404},
        "kiosk_terminal": {404},
    }
    tokens = {**live.tokens, "this_case_owner": owner}
    for role, expected in refused.items():
        read = await live.client.get(f"/api/v1/cases/{case_id}", headers=bearer(tokens[role]))
        response = await live.client.post(
            f"/api/v1/cases/{case_id}/objections", json={"message": "有异议"}, headers=bearer(tokens[role])
        )
        assert response.status_code in expected, (role, response.status_code, response.text)
        if read.status_code == 404:
            assert response.status_code == 404, role  # no more than the case itself reveals
        assert "legal_rep_id_number" not in response.text
    after = _statuses((await live.client.get(f"/api/v1/cases/{case_id}", headers=bearer(owner))).json())
    assert after == before, "a refused objection changed the case"


async def test_finding02_objection_answers_the_objectors_own_view_and_is_audited(live, noticed_case):
    case_id = noticed_case["id"]
    token = live.tokens["region_other"]  # AMR, 福州 only: the case is in 福州, with an AMR item
    own = (await live.client.get(f"/api/v1/cases/{case_id}", headers=bearer(token))).json()
    assert own["id"] == case_id
    response = await live.client.post(
        f"/api/v1/cases/{case_id}/objections", json={"message": "债权人提出异议"}, headers=bearer(token)
    )
    assert response.status_code == 200, response.text
    view = response.json()
    assert next(i for i in view["items"] if i["code"] == "NOTICE")["status"] == "rejected"
    # the staff member's own view: the form fields AMR's items receive, no other item's bank account
    amr_fields = {
        k for i in view["items"] if i["system"] == "amr" for k in _item_maps(view["catalog_version"], i["code"])
    }
    assert set(view["form_data"]) <= amr_fields, set(view["form_data"]) - amr_fields
    assert set(view["form_data"]) == set(own["form_data"])
    for item in view["items"]:
        if item["system"] != "amr":
            assert not item.get("account"), item
    records = await access_records(live.platform, case_id=case_id, subject="staff-amr-fuzhou")
    assert "object" in {r.action for r in records}


async def test_finding02_class_redrive_is_decided_by_the_case_rule_and_audited(live, world):
    """Same class (a staff action on a case decided outside the case's access rule, unaudited): the
    service re-drove an item for whoever called it. Only administrators may, and it is audited."""
    from backend.identity.actor import Actor
    from backend.lib.problems import ProblemError

    staff = Actor(
        id="staff-amr", kind="staff", roles=frozenset({"agency_staff"}), agencies=frozenset({"amr"}), regions=("35",)
    )
    with pytest.raises(ProblemError) as refused:
        await live.platform.cases.redrive(staff, world.item_ref)
    assert refused.value.status == 403
    admin = Actor(id="admin-platform", kind="staff", roles=frozenset({"admin"}), regions=("35",))
    with pytest.raises(ProblemError) as answered:  # the item was delivered: nothing to re-drive
        await live.platform.cases.redrive(admin, world.item_ref)
    assert answered.value.code == "not_dispatch_failed"
    records = await access_records(live.platform, case_id=world.case_id, subject="admin-platform")
    assert "redrive" in {r.action for r in records}
