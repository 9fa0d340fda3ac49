"""The task list's own steps (enterprise checked, form confirmed, face passed) are kept on the
server: a second device of the same person sees them done, and a changed form is unconfirmed."""

from __future__ import annotations

from urllib.parse import parse_qs, urlsplit

import pytest

from tests.cases.live import platform_client
from tests.cases.support import BASE_ANSWERS, HAPPY_USCC
from tests.http import assert_problem as problem
from tests.http import login

pytestmark = pytest.mark.slow  # a live platform


@pytest.fixture
async def api(tmp_path):
    async with platform_client(tmp_path) as client:
        yield client


async def test_a_second_device_sees_the_same_progress(api):
    phone, kiosk = await login(api, "applicant-p002"), await login(api, "applicant-p002")
    created = (await api.post("/api/v1/cases", json={"uscc": HAPPY_USCC}, headers=phone)).json()
    case = created["id"]
    progress = f"/api/v1/cases/{case}/progress"
    assert (await api.get(progress, headers=kiosk)).json() == {
        "enterprise_checked": False,
        "form_confirmed": False,
        "face": None,
    }

    marked = await api.patch(progress, json={"enterprise_checked": True, "form_confirmed": True}, headers=phone)
    assert marked.status_code == 200, marked.text
    assert (await api.get(progress, headers=kiosk)).json() == {
        "enterprise_checked": True,
        "form_confirmed": True,
        "face": None,
    }

    # the form changed after it was confirmed (on any device): confirm it again
    saved = await api.patch(
        f"/api/v1/cases/{case}",
        json={"answers": BASE_ANSWERS, "form_data": {"contact_phone": "13800000000"}, "version": created["version"]},
        headers=kiosk,
    )
    assert saved.status_code == 200, saved.text
    assert (await api.get(progress, headers=phone)).json() == {
        "enterprise_checked": True,
        "form_confirmed": False,
        "face": None,
    }

    # face: started on the phone, passed, and the kiosk sees it passed (what submitting will check)
    from backend.identity import get_identity
    from backend.identity.face import accept_face_result
    from backend.identity.sandbox import sandbox_face_result

    started = (
        await api.post("/api/v1/face-verifications", json={"purpose": "submit", "reference": case}, headers=phone)
    ).json()
    recorded = await api.patch(
        progress,
        json={"face_verification_id": started["verification_id"], "face_provider_url": started["provider_url"]},
        headers=phone,
    )
    assert recorded.json()["face"] == {
        "status": "pending",
        "verification_id": started["verification_id"],
        "provider_url": started["provider_url"],
    }
    platform = api.app.state.platform
    nonce = parse_qs(urlsplit(started["provider_url"]).query)["nonce"][0]
    await accept_face_result(
        platform, sandbox_face_result(get_identity(platform), started["verification_id"], nonce, "passed")
    )
    assert (await api.get(progress, headers=kiosk)).json()["face"] == {
        "status": "passed",
        "verification_id": "",
        "provider_url": "",
    }


async def test_progress_is_the_applicants_own(api):
    owner, stranger = await login(api, "applicant-p002"), await login(api, "applicant-p004")
    case = (await api.post("/api/v1/cases", json={"uscc": HAPPY_USCC}, headers=owner)).json()["id"]
    progress = f"/api/v1/cases/{case}/progress"
    problem(await api.get(progress, headers=stranger), 404, "case_not_found")
    problem(await api.patch(progress, json={"enterprise_checked": True}, headers=stranger), 404, "case_not_found")
    problem(await api.patch(progress, json={"done": True}, headers=owner), 400, "validation_failed")
    problem(
        await api.patch(
            progress, json={"face_verification_id": "x", "face_provider_url": "javascript:alert(1)"}, headers=owner
        ),
        400,
        "validation_failed",
    )
    unknown = await api.patch(progress, json={"face_verification_id": "nope"}, headers=owner)
    problem(unknown, 404, "verification_not_found")


async def test_register_facts_follow_the_plan(api):
    """清算组负责人 comes from the register, and only when the draft's route asks for it."""
    owner = await login(api, "applicant-p002")
    created = (await api.post("/api/v1/cases", json={"uscc": HAPPY_USCC}, headers=owner)).json()
    case = created["id"]
    facts = f"/api/v1/cases/{case}/register-facts"
    assert (await api.get(facts, headers=owner)).json() == {"fields": {}}  # no plan yet: nothing to show
    assert "liquidation_group_head" not in created["form_data"]  # never put into every draft (see the module)

    general = await api.patch(f"/api/v1/cases/{case}", json={"answers": BASE_ANSWERS}, headers=owner)
    assert general.json()["plan"] is not None
    fields = (await api.get(facts, headers=owner)).json()["fields"]
    assert fields["liquidation_group_head"] == "林晓燕" and fields["uscc"] == HAPPY_USCC
    assert fields["entity_name"] == "福州榕鑫贸易有限公司"

    simplified = await api.patch(
        f"/api/v1/cases/{case}", json={"answers": {**BASE_ANSWERS, "route": "simplified"}}, headers=owner
    )
    plan = simplified.json()["plan"]
    assert plan is not None and "liquidation_group_head" not in plan["form"]["properties"]
    fields = (await api.get(facts, headers=owner)).json()["fields"]
    assert "liquidation_group_head" not in fields and fields["uscc"] == HAPPY_USCC
