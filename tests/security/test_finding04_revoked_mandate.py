"""Finding 4 (medium): revoking a mandate left the agent in charge of the drafts they created.

The case service let a draft's creator through before any capacity check, so an agent whose
mandate was revoked still read the draft (with the legal representative's ID number) and edited it.
Access now follows the agent's current capacity only: after the revocation every read and action
is 404, the draft leaves their list, and nothing they receive carries the ID number.
"""

from __future__ import annotations

from tests.cases.support import BASE_ANSWERS
from tests.security.support import OTHER_USCC, bearer, session_token

AGENT_ID_NUMBER = "350102196501010000"  # applicant-p001, 陈建华


async def test_finding04_revoking_a_mandate_ends_access_to_the_agents_drafts(live):
    legal = await session_token(live.client, "applicant-p002")
    agent_token = await session_token(live.client, "applicant-p001")
    agent = bearer(agent_token)
    granted = await live.client.post(
        "/api/v1/mandates",
        json={"uscc": OTHER_USCC, "agent_id_number": AGENT_ID_NUMBER, "agent_name": "陈建华"},
        headers=bearer(legal),
    )
    assert granted.status_code == 201, granted.text
    mandate_id = granted.json()["mandate_id"]
    try:
        created = await live.client.post("/api/v1/cases", json={"uscc": OTHER_USCC}, headers=agent)
        assert created.status_code == 201, created.text
        draft = created.json()
        legal_rep_id = draft["form_data"]["legal_rep_id_number"]  # prefilled for the application
        base = f"/api/v1/cases/{draft['id']}"
        saved = await live.client.patch(
            base, json={"answers": BASE_ANSWERS, "version": draft["version"]}, headers=agent
        )
        assert saved.status_code == 200, saved.text
        assert draft["id"] in {c["id"] for c in (await live.client.get("/api/v1/cases", headers=agent)).json()}
    finally:
        revoked = await live.client.post(f"/api/v1/mandates/{mandate_id}/revoke", headers=bearer(legal))
        assert revoked.status_code == 200, revoked.text

    answers = {
        "read": await live.client.get(base, headers=agent),
        "status": await live.client.get(f"{base}/status", headers=agent),
        "signatures": await live.client.get(f"{base}/signatures", headers=agent),
        "edit": await live.client.patch(
            base,
            json={"form_data": {"contact_phone": "13800000000"}, "version": saved.json()["version"]},
            headers=agent,
        ),
        "withdraw": await live.client.post(f"{base}/withdraw", headers=agent),
        "precheck": await live.client.post(f"{base}/precheck", headers=agent),
    }
    for what, response in answers.items():
        assert response.status_code == 404, (what, response.status_code, response.text[:200])
        assert legal_rep_id not in response.text
    mine = await live.client.get("/api/v1/cases", headers=agent)
    assert draft["id"] not in {c["id"] for c in mine.json()}
    assert legal_rep_id not in mine.text
    # the draft is untouched and still the enterprise's: its legal representative carries on
    view = (await live.client.get(base, headers=bearer(legal))).json()
    assert view["version"] == saved.json()["version"] and view["form_data"].get("contact_phone") != "13800000000"


async def test_finding04_class_a_revoked_agent_hears_no_more_of_the_case(live):
    """Same class (the creator standing in for the applicant): the case's notices went to whoever
    started it, so a revoked agent kept hearing of the enterprise's case. They go to the legal
    representative once the agent may no longer act."""
    from backend.cases.tables import CaseFile
    from backend.notifications.tables import Notification

    legal = await session_token(live.client, "applicant-p002")
    agent = bearer(await session_token(live.client, "applicant-p001"))
    granted = await live.client.post(
        "/api/v1/mandates",
        json={"uscc": OTHER_USCC, "agent_id_number": AGENT_ID_NUMBER, "agent_name": "陈建华"},
        headers=bearer(legal),
    )
    assert granted.status_code == 201, granted.text
    try:
        draft = (await live.client.post("/api/v1/cases", json={"uscc": OTHER_USCC}, headers=agent)).json()
    finally:
        await live.client.post(f"/api/v1/mandates/{granted.json()['mandate_id']}/revoke", headers=bearer(legal))
    # the draft is a day from expiry: the expiry job warns whoever is to hear of it
    now = live.platform.clock.now_ms()
    await CaseFile.update({CaseFile.expires_at: now + 86_400_000}).where(CaseFile.public_id == draft["id"])
    await live.platform.cases.expire_drafts_job(draft["id"])
    warned = await Notification.select(Notification.person_id).where(
        (Notification.kind == "draft_expiring") & Notification.data.like(f"%{draft['id']}%")
    )
    assert [w["person_id"] for w in warned] == ["P002"], warned
