"""Every role's access on identity's routes (allowed and refused), role guards, acting capacity, masking."""

from __future__ import annotations

import base64

import pytest

from backend.identity import (
    AGENCY_STAFF,
    KIOSK_TERMINAL,
    WINDOW_STAFF,
    Principal,
    audit_access,
    may_act_for,
    require_act_for,
    require_agency_staff,
    require_kiosk_terminal,
    require_window_staff,
)
from backend.lib.problems import ProblemError
from tests.identity.conftest import bearer, in_app, token_for

USCC_P002 = "91350102MA0102003U"  # P002 legal rep, P003 liquidator
USCC_P004 = "91350104MA02041309"  # P004 legal rep + investor, P005 investor, P001 agent
P002_ID = "350102196602040372"

PERSONAS = {
    "applicant": "applicant-p002",
    "liquidator": "applicant-p003",
    "agent": "applicant-p001",
    "agency_staff": "staff-amr",
    "regional_staff": "staff-amr-fuzhou",
    "window_staff": "window-fuzhou",
    "admin": "admin-platform",
    "kiosk_terminal": "kiosk-fz-01",
    "tester": "tester-qa",
}

# (route, method, body) → which personas may use it (others get 403)
ROUTE_ACCESS = [
    ("GET", "/api/v1/audit/access", None, {"admin"}),
    ("GET", f"/api/v1/enterprises/{USCC_P002}", None, {"applicant", "liquidator"}),
    (
        "GET",
        f"/api/v1/enterprises/{USCC_P002}/licence",
        None,
        # agency staff: only enterprises with a case of theirs (none here); tests/security/test_finding07_*
        {"applicant", "liquidator", "window_staff", "admin"},
    ),
    ("GET", "/api/v1/mandates", None, {"applicant", "liquidator", "agent"}),
    (
        "POST",
        "/api/v1/face-verifications",
        {"purpose": "submit", "reference": "c1"},
        {"applicant", "liquidator", "agent"},
    ),
    (
        "POST",
        "/api/v1/kiosk/sessions",
        {"id_number": P002_ID, "name": "林晓燕", "frames": [base64.b64encode(b"frame").decode()]},
        {"kiosk_terminal"},
    ),
]


@pytest.mark.parametrize("method,path,body,allowed", ROUTE_ACCESS, ids=[f"{m} {p}" for m, p, _, _ in ROUTE_ACCESS])
async def test_route_access_by_role(api, method, path, body, allowed):
    for role, persona in PERSONAS.items():
        tokens = await token_for(api, persona)
        response = await api.request(method, path, json=body, headers=bearer(tokens))
        if role in allowed:
            assert response.status_code in (200, 201), (role, response.text)
        else:
            assert response.status_code == 403, (role, response.status_code, response.text)
            assert response.json()["code"] == "forbidden"
        unauthenticated = await api.request(method, path, json=body)
        assert unauthenticated.status_code == 401


async def test_me_for_each_role(api):
    for role, persona in PERSONAS.items():
        me = (await api.get("/api/v1/me", headers=bearer(await token_for(api, persona)))).json()
        if role == "agency_staff":
            assert me["roles"] == [AGENCY_STAFF] and me["agencies"] == ["amr"] and me["regions"] == ["35"]
        if role == "regional_staff":
            assert me["regions"] == ["3501"]
        if role == "window_staff":
            assert me["roles"] == [WINDOW_STAFF] and me["hall"] == "hall-350100"
        if role == "kiosk_terminal":
            assert me["roles"] == [KIOSK_TERMINAL] and me["terminal_id"] == "kiosk-fz-01" and me["person_id"] is None
        if role == "agent":
            capacities = {e["uscc"]: e for e in me["enterprises"]}
            assert (
                capacities[USCC_P004]["capacities"] == ["agent"] and capacities[USCC_P004]["source"] == "registration"
            )


def _principal(**kw) -> Principal:
    return Principal(**{"subject": "x", "name": "x", "roles": [], "auth_method": "sandbox_token", **kw})


def test_agency_staff_scope_by_agency_and_region():
    staff = _principal(roles=[AGENCY_STAFF], agencies=["amr"], regions=["3501"])
    require_agency_staff(staff, "amr", "350102")
    with pytest.raises(ProblemError) as other_agency:
        require_agency_staff(staff, "etax", "350102")
    assert other_agency.value.status == 403
    with pytest.raises(ProblemError) as other_region:
        require_agency_staff(staff, "amr", "350203")
    assert "辖区" in other_region.value.detail
    with pytest.raises(ProblemError):
        require_agency_staff(_principal(roles=[WINDOW_STAFF], hall="hall-350100"), "amr", "350102")
    require_agency_staff(_principal(roles=["admin"]), "etax", "350203")  # admins see everything


def test_window_staff_per_hall_and_kiosk_terminal():
    window = _principal(roles=[WINDOW_STAFF], hall="hall-350100")
    require_window_staff(window, "hall-350100")
    with pytest.raises(ProblemError):
        require_window_staff(window, "hall-350128")
    require_kiosk_terminal(_principal(roles=[KIOSK_TERMINAL], terminal_id="kiosk-fz-01"))
    with pytest.raises(ProblemError):  # a visitor at the kiosk is not the terminal
        require_kiosk_terminal(_principal(roles=["applicant"], terminal_id="kiosk-fz-01", person_id="P002"))


async def test_acting_capacity_from_registration(api):
    platform = api.platform
    legal = _principal(subject="P002", roles=["applicant"], person_id="P002", id_number=P002_ID)
    capacity = await in_app(api, may_act_for, platform, legal, USCC_P002)
    assert (
        capacity
        and capacity.source == "registration"
        and {"legal_rep", "investor", "liquidation_head"} <= set(capacity.capacities)
    )
    assert await in_app(api, may_act_for, platform, legal, USCC_P004) is None
    with pytest.raises(ProblemError) as refused:
        await in_app(api, require_act_for, platform, legal, USCC_P004)
    assert refused.value.status == 403
    with pytest.raises(ProblemError):
        await in_app(api, require_act_for, platform, legal, USCC_P002, capacities={"liquidator"})
    staff = _principal(roles=[AGENCY_STAFF], agencies=["amr"], regions=["35"])
    assert await in_app(api, may_act_for, platform, staff, USCC_P002) is None


async def test_other_peoples_numbers_are_masked(api):
    tokens = await token_for(api, "applicant-p004")
    view = (await api.get(f"/api/v1/enterprises/{USCC_P004}", headers=bearer(tokens))).json()
    mine = [a for a in view["actors"] if a["is_me"]]
    others = [a for a in view["actors"] if not a["is_me"]]
    assert mine and all("*" not in a["id_number"] for a in mine)
    assert others and all(a["id_number"].count("*") == 12 for a in others)


async def test_staff_access_is_audited(api):
    platform = api.platform
    staff = _principal(subject="staff-amr", name="登记岗", roles=[AGENCY_STAFF], agencies=["amr"], regions=["35"])
    applicant = _principal(subject="P002", roles=["applicant"], person_id="P002")
    assert await in_app(api, audit_access, platform, staff, "case-audit-1", "read") is True
    assert await in_app(api, audit_access, platform, applicant, "case-audit-1", "read") is False
    admin = await token_for(api, "admin-platform")
    records = (await api.get("/api/v1/audit/access", params={"case_id": "case-audit-1"}, headers=bearer(admin))).json()
    assert [(r["subject"], r["action"], r["agency"]) for r in records] == [("staff-amr", "read", "amr")]
