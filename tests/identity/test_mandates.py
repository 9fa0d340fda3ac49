"""Mandates (授权委托): granted by the legal representative, scoped, expiring, revocable."""

from __future__ import annotations

from backend.identity import Principal, may_act_for
from tests.identity.conftest import bearer, in_app, token_for

USCC = "91350102MA0102003U"  # P002 legal rep, P003 liquidator
AGENT_ID = "350102196501010000"  # P001 陈建华 (not on this enterprise's record)
AGENT = Principal(
    subject="P001",
    name="陈建华",
    roles=["applicant"],
    auth_method="sandbox_token",
    person_id="P001",
    id_number=AGENT_ID,
)


async def test_mandate_scope_expiry_and_revocation(any_api, clock):
    platform = any_api.platform
    legal = await token_for(any_api, "applicant-p002")
    agent = await token_for(any_api, "applicant-p001")
    assert await in_app(any_api, may_act_for, platform, AGENT, USCC) is None

    created = await any_api.post(
        "/api/v1/mandates",
        json={
            "uscc": USCC,
            "agent_id_number": AGENT_ID,
            "agent_name": "陈建华",
            "items": ["TAX-UNIFIED"],
            "expires_at": clock.now_ms() + 86400_000,
        },
        headers=bearer(legal),
    )
    assert created.status_code == 201, created.text
    mandate = created.json()
    assert mandate["status"] == "active" and not mandate["whole_case"] and mandate["items"] == ["TAX-UNIFIED"]
    assert "*" in mandate["agent_id_number"]  # not the legal rep's own number

    capacity = await in_app(any_api, may_act_for, platform, AGENT, USCC)
    assert (
        capacity
        and capacity.source == "mandate"
        and capacity.covers("TAX-UNIFIED")
        and not capacity.covers("REG-COMPANY")
    )
    me = (await any_api.get("/api/v1/me", headers=bearer(agent))).json()
    assert USCC in [e["uscc"] for e in me["enterprises"]]
    received = (await any_api.get("/api/v1/mandates", headers=bearer(agent))).json()
    assert [m["agent_id_number"] for m in received if m["uscc"] == USCC] == [AGENT_ID]  # the agent's own number

    # only the legal representative may revoke
    refused = await any_api.post(f"/api/v1/mandates/{mandate['mandate_id']}/revoke", headers=bearer(agent))
    assert refused.status_code == 403
    clock.advance(86401)
    assert await in_app(any_api, may_act_for, platform, AGENT, USCC) is None  # expired
    clock.advance(-86401)
    revoked = await any_api.post(f"/api/v1/mandates/{mandate['mandate_id']}/revoke", headers=bearer(legal))
    assert revoked.status_code == 200 and revoked.json()["status"] == "revoked"
    assert await in_app(any_api, may_act_for, platform, AGENT, USCC) is None


async def test_only_the_legal_representative_may_grant(any_api):
    liquidator = await token_for(any_api, "applicant-p003")
    response = await any_api.post(
        "/api/v1/mandates", json={"uscc": USCC, "agent_id_number": AGENT_ID}, headers=bearer(liquidator)
    )
    assert response.status_code == 403
    staff = await token_for(any_api, "staff-amr")
    assert (
        await any_api.post("/api/v1/mandates", json={"uscc": USCC, "agent_id_number": AGENT_ID}, headers=bearer(staff))
    ).status_code == 403


async def test_mandate_validation(any_api):
    legal = await token_for(any_api, "applicant-p002")
    bad_id = await any_api.post(
        "/api/v1/mandates", json={"uscc": USCC, "agent_id_number": "350102196501010001"}, headers=bearer(legal)
    )
    assert bad_id.status_code == 422 and bad_id.json()["code"] == "invalid_id_number"
    bad_uscc = await any_api.post(
        "/api/v1/mandates", json={"uscc": "91350102MA0102003X", "agent_id_number": AGENT_ID}, headers=bearer(legal)
    )
    assert bad_uscc.status_code == 422 and bad_uscc.json()["code"] == "invalid_uscc"
    wrong_name = await any_api.post(
        "/api/v1/mandates",
        json={"uscc": USCC, "agent_id_number": AGENT_ID, "agent_name": "张三"},
        headers=bearer(legal),
    )
    assert wrong_name.status_code == 422
    past = await any_api.post(
        "/api/v1/mandates", json={"uscc": USCC, "agent_id_number": AGENT_ID, "expires_at": 1000}, headers=bearer(legal)
    )
    assert past.status_code == 422
