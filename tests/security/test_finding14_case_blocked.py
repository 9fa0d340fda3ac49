"""Finding 14: submitting a draft the plan blocks answered 500.

The service read each blocker's message under ``"zh"`` while the catalog's Text is ``"zh-CN"``, so
every blocked draft (a Xiamen enterprise on the provincial deployment, an active branch, every
simplified-route exclusion) raised a KeyError. Each kind is submitted here over HTTP and must answer
422 ``case_blocked`` naming the blocker with the catalog's zh-CN text; the agencies' own pre-check
blockers come in the same shape (``message`` as the catalog's Text), which the PWA reads.
"""

from __future__ import annotations

import pytest

from backend.catalog import get_catalog
from tests.cases.support import BASE_ANSWERS
from tests.security.support import bearer, session_token

SIMPLIFIED = {**BASE_ANSWERS, "route": "simplified"}

# (blocker code, fixture person acting, their enterprise, answers)
BLOCKED = [
    ("outside_jurisdiction", "person-P006", "91350203MA030326XX", BASE_ANSWERS),  # 厦门, provincial deployment
    ("active_branches", "person-P023", "91350602MA09020781", BASE_ANSWERS),
    ("simplified_excluded_abnormal_list", "person-P028", "91350702MA1102339P", SIMPLIFIED),
    ("simplified_excluded_equity_pledged_or_frozen", "person-P030", "91350802MA1202460C", SIMPLIFIED),
    ("simplified_excluded_outward_investments", "person-P033", "91350902MA13025923", SIMPLIFIED),
    (
        "simplified_excluded_investigation_or_litigation",
        "person-P004",
        "91350104MA02041309",
        {**SIMPLIFIED, "under_investigation_or_litigation": True},
    ),
    (
        "simplified_excluded_revoked_or_closed",
        "person-P004",
        "91350104MA02041309",
        {**SIMPLIFIED, "revoked_or_closed": True},
    ),
    (
        "simplified_excluded_unpaid_penalties",
        "person-P004",
        "91350104MA02041309",
        {**SIMPLIFIED, "unpaid_penalties": True},
    ),
    ("simplified_excluded_listed_company", "person-P004", "91350104MA02041309", {**SIMPLIFIED, "listed_company": True}),
]


def _catalog_message(code: str) -> str:
    catalog = get_catalog()
    if code == "outside_jurisdiction":
        return catalog.default_jurisdiction.exclusion_for("350203").message.zh
    return catalog.rules[code].message.zh


async def _draft(client, token: str, uscc: str, answers: dict) -> dict:
    created = await client.post("/api/v1/cases", json={"uscc": uscc}, headers=bearer(token))
    assert created.status_code == 201, created.text
    view = created.json()
    saved = await client.patch(
        f"/api/v1/cases/{view['id']}", json={"answers": answers, "version": view["version"]}, headers=bearer(token)
    )
    assert saved.status_code == 200, saved.text
    return saved.json()


@pytest.mark.parametrize(("code", "persona", "uscc", "answers"), BLOCKED, ids=[b[0] for b in BLOCKED])
async def test_finding14_blocked_draft_answers_422_naming_the_blocker(live, code, persona, uscc, answers):
    token = await session_token(live.client, persona)
    view = await _draft(live.client, token, uscc, answers)
    assert view["plan"] is not None, view["plan_problems"]
    assert code in {b["code"] for b in view["plan"]["blockers"]}
    response = await live.client.post(
        f"/api/v1/cases/{view['id']}/submit", headers={**bearer(token), "Idempotency-Key": f"blocked-{view['id']}"}
    )
    assert response.status_code == 422, response.text
    problem = response.json()
    assert response.headers["content-type"].startswith("application/problem+json")
    assert problem["code"] == "case_blocked"
    named = {e["code"]: e for e in problem["errors"]}
    assert named[code] == {"field": f"blockers.{code}", "code": code, "message": _catalog_message(code)}
    # nothing was submitted
    after = (await live.client.get(f"/api/v1/cases/{view['id']}", headers=bearer(token))).json()
    assert after["status"] == "draft" and after.get("number") is None


async def test_finding14_agency_precheck_blockers_have_the_plan_blockers_shape(live):
    token = await session_token(live.client, "person-P012")  # 税款欠缴: the tax system's pre-check refuses
    view = await _draft(live.client, token, "91350181MA05815262", BASE_ANSWERS)
    response = await live.client.post(f"/api/v1/cases/{view['id']}/precheck", headers=bearer(token))
    assert response.status_code == 200, response.text
    blockers = response.json()["blockers"]
    agency = [b for b in blockers if b["source"] == "agency"]
    assert agency, response.json()
    # one shape for both: the same keys, whoever found it
    assert {tuple(sorted(b)) for b in blockers} == {tuple(sorted(agency[0]))}, blockers
    for blocker in agency:
        assert set(blocker["message"]) == {"zh-CN", "en"}, blocker
        assert blocker["message"]["zh-CN"], blocker
        # the agency's bilingual message is split, not repeated in both languages
        assert blocker["message"]["zh-CN"] != blocker["message"]["en"], blocker
        assert blocker["agency"]["code"] and set(blocker["agency"]["name"]) == {"zh-CN", "en"}, blocker
        assert blocker["item"], blocker
