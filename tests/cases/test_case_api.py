"""The case API over HTTP with real sessions (sandbox tokens), on PostgreSQL and Redis:
who may see what, and every error as a problem document naming the field."""

from __future__ import annotations

import httpx
import pytest

from tests.cases.conftest import clean_database_at
from tests.cases.live import serve_platform
from tests.cases.support import (
    BASE_ANSWERS,
    HAPPY_USCC,
    TINY_PDF,
    form_from_examples,
    materials_to_upload,
    sign_and_verify_face,
)
from tests.http import assert_problem as problem
from tests.http import login

pytestmark = [pytest.mark.postgres, pytest.mark.redis]


@pytest.fixture
async def api(pg_url, redis_url, tmp_path):
    """The production-mode app served over HTTP in this event loop, on a clean database."""
    await clean_database_at(pg_url)
    async with (
        serve_platform(
            tmp_path, database_url=pg_url, redis_url=redis_url, connector_base_url="http://127.0.0.1:9/sim"
        ) as app,
        httpx.AsyncClient(base_url=str(app.state.platform.settings.base_url)) as client,
    ):
        client.app = app
        yield client


async def test_no_session_no_cases(api):
    problem(await api.get("/api/v1/cases"), 401, "unauthenticated")


async def test_applicants_see_only_their_enterprises_cases(api):
    owner, stranger = await login(api, "applicant-p002"), await login(api, "applicant-p004")
    created = await api.post("/api/v1/cases", json={"uscc": HAPPY_USCC}, headers=owner)
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    assert created.json()["form_data"]["legal_rep_name"] == "林晓燕"
    assert [c["id"] for c in (await api.get("/api/v1/cases", headers=owner)).json()] == [case_id]
    problem(await api.get(f"/api/v1/cases/{case_id}", headers=stranger), 404, "case_not_found")
    assert (await api.get("/api/v1/cases", headers=stranger)).json() == []
    problem(
        await api.post("/api/v1/cases", json={"uscc": HAPPY_USCC}, headers=stranger),
        403,
        "not_authorised_for_enterprise",
    )


async def test_codes_are_checked_with_clear_errors(api):
    owner = await login(api, "applicant-p002")
    body = problem(
        await api.post("/api/v1/cases", json={"uscc": "91350102MA0102003X"}, headers=owner), 422, "invalid_uscc"
    )
    assert body["errors"][0]["field"] == "uscc"
    problem(
        await api.post("/api/v1/cases", json={"uscc": "91350102MA0Y999928"}, headers=owner), 404, "enterprise_not_found"
    )
    problem(await api.post("/api/v1/cases", json={"uscc": 12}, headers=owner), 400, "validation_failed")


async def test_drafts_refuse_stale_saves_bad_uploads_and_incomplete_submission(api):
    owner = await login(api, "applicant-p002")
    case = (await api.post("/api/v1/cases", json={"uscc": HAPPY_USCC}, headers=owner)).json()
    saved = await api.patch(
        f"/api/v1/cases/{case['id']}", json={"answers": BASE_ANSWERS, "version": case["version"]}, headers=owner
    )
    assert saved.status_code == 200 and saved.json()["plan"]["items"]
    problem(
        await api.patch(
            f"/api/v1/cases/{case['id']}",
            json={"form_data": {"contact_phone": "13900000000"}, "version": case["version"]},
            headers=owner,
        ),
        409,
        "version_conflict",
    )
    upload = await api.post(
        f"/api/v1/cases/{case['id']}/materials",
        files={"file": ("x.pdf", b"GIF89a....", "application/pdf")},
        data={"code": "x"},
        headers=owner,
    )
    problem(upload, 415, "unsupported_material")
    problem(await api.post(f"/api/v1/cases/{case['id']}/submit", headers=owner), 400, "idempotency_key_required")
    body = problem(
        await api.post(f"/api/v1/cases/{case['id']}/submit", headers={**owner, "Idempotency-Key": "k1"}),
        422,
        "case_incomplete",
    )
    fields = {e["field"] for e in body["errors"]}
    assert {"face_verification", "signatures"} <= fields and any(f.startswith("form_data.") for f in fields)


async def test_messages_come_in_the_readers_language_and_name_their_field(api):
    """Accept-Language picks one language for every message: problems, pre-check and plan problems."""
    owner = await login(api, "applicant-p002")
    case = (await api.post("/api/v1/cases", json={"uscc": HAPPY_USCC}, headers=owner)).json()
    assert all(not _mixed(p["message"]) for p in case["plan_problems"]) and case["plan_problems"]
    await api.patch(f"/api/v1/cases/{case['id']}", json={"answers": BASE_ANSWERS}, headers=owner)
    for language, check in (("zh-CN", _chinese), ("en-US,en;q=0.9", _english)):
        headers = {**owner, "Accept-Language": language}
        report = (await api.post(f"/api/v1/cases/{case['id']}/precheck", headers=headers)).json()
        messages = [m["message"] for m in report["missing"]]
        assert messages and all(check(m) for m in messages), messages
        form = [m["message"] for m in report["missing"] if m["field"].startswith("form_data.")]
        assert form and not any(m in ("必填", "required") for m in form)  # each names its field
        body = problem(
            await api.post(f"/api/v1/cases/{case['id']}/submit", headers={**headers, "Idempotency-Key": "k2"}),
            422,
            "case_incomplete",
        )
        assert check(body["detail"]) and all(check(e["message"]) for e in body["errors"]), body
        missing = problem(await api.get("/api/v1/cases/nope", headers=headers), 404, "case_not_found")
        assert check(missing["detail"])
    zh = (await api.post(f"/api/v1/cases/{case['id']}/precheck", headers=owner)).json()
    assert any(m["message"] == "请填写：清算组负责人" for m in zh["missing"]) or any(
        m["message"].startswith("请填写：") for m in zh["missing"]
    )


def _has_cjk(text: str) -> bool:
    return any("\u3400" <= ch <= "\u9fff" for ch in text)


def _mixed(text: str) -> bool:
    import re

    return _has_cjk(text) and bool(re.search(r"[A-Za-z]{3,} [A-Za-z]{3,}", text))


def _chinese(text: str) -> bool:
    return _has_cjk(text) and not _mixed(text)


def _english(text: str) -> bool:
    return not _has_cjk(text)


async def test_submission_through_the_api_and_staff_scope_with_audit(api):
    owner = await login(api, "applicant-p002")
    platform = api.app.state.platform
    case = (await api.post("/api/v1/cases", json={"uscc": HAPPY_USCC}, headers=owner)).json()
    view = (await api.patch(f"/api/v1/cases/{case['id']}", json={"answers": BASE_ANSWERS}, headers=owner)).json()
    await api.patch(
        f"/api/v1/cases/{case['id']}",
        json={"form_data": form_from_examples(view["plan"], view["form_data"])},
        headers=owner,
    )
    for code in materials_to_upload(view["plan"]):
        response = await api.post(
            f"/api/v1/cases/{case['id']}/materials",
            files={"file": (f"{code}.pdf", TINY_PDF, "application/pdf")},
            data={"code": code},
            headers=owner,
        )
        assert response.status_code == 201, response.text
    from backend.identity.actor import Actor

    await sign_and_verify_face(platform, Actor(id="P002"), case["id"])
    signing = (await api.get(f"/api/v1/cases/{case['id']}/signatures", headers=owner)).json()
    assert signing["complete"] is True
    first = await api.post(f"/api/v1/cases/{case['id']}/submit", headers={**owner, "Idempotency-Key": "submit-1"})
    assert first.status_code == 200, first.text
    # a submitted case has no plan: it says its promised days itself, and names what each item closes
    submitted = first.json()
    assert submitted["promised_days"] >= view["plan"]["promised_days"] > 0  # + accounts closed one after another
    banks = [i for i in submitted["items"] if i["code"] == "BANK"]
    assert len(banks) > 1 and len({i["subject"]["zh"] for i in banks}) == len(banks)
    for i in banks:
        number = i["account"]["account_no"]
        assert f"…{number[-4:]}" in i["subject"]["zh"] and number not in i["subject"]["zh"]
        assert not _has_cjk(i["subject"]["en"])
    seals = [i for i in submitted["items"] if i["code"] == "SEAL"]
    assert seals and all(i["subject"]["zh"] and "·" in i["subject"]["zh"] for i in seals)
    assert len({i["subject"]["zh"] for i in seals}) == len(seals)
    assert all(i.get("system_name") for i in submitted["items"])
    customs = [i for i in submitted["items"] if i["code"].startswith("CUSTOMS")]
    assert all(i["office_name"]["zh"] == "福州海关" for i in customs)
    again = await api.post(f"/api/v1/cases/{case['id']}/submit", headers={**owner, "Idempotency-Key": "submit-1"})
    assert again.json()["number"] == first.json()["number"]
    status = (
        await api.get(f"/api/v1/cases/{case['id']}/status", headers=owner)
    ).json()  # the lean read agrees with the view
    assert (status["number"], status["status"]) == (first.json()["number"], "submitted")
    assert [(i["ref"], i["status"], i.get("due_on", "")) for i in status["items"]] == [
        (i["ref"], i["status"], i.get("due_on", "")) for i in first.json()["items"]
    ]
    problem(
        await api.get(f"/api/v1/cases/{case['id']}/status", headers=await login(api, "applicant-p004")),
        404,
        "case_not_found",
    )
    problem(await api.get(f"/api/v1/cases/{case['id']}/status"), 401, "unauthenticated")

    amr, etax_only_xiamen = await login(api, "staff-amr"), await login(api, "staff-xm-tax")
    assert (await api.get(f"/api/v1/cases/{case['id']}", headers=amr)).status_code == 200
    assert (await api.get(f"/api/v1/cases/{case['id']}/status", headers=amr)).status_code == 200
    problem(await api.get(f"/api/v1/cases/{case['id']}", headers=etax_only_xiamen), 404, "case_not_found")
    problem(await api.get(f"/api/v1/cases/{case['id']}/status", headers=etax_only_xiamen), 404, "case_not_found")
    admin = await login(api, "admin-platform")
    records = (await api.get("/api/v1/audit/access", params={"case_id": case["id"]}, headers=admin)).json()
    assert any(r["subject"] == "staff-amr" for r in records)
    assert {r["action"] for r in records if r["subject"] == "staff-amr"} >= {"read", "status"}


async def test_live_updates_arrive_over_server_sent_events(api):
    import asyncio

    import msgspec

    owner = await login(api, "applicant-p002")
    case = (await api.post("/api/v1/cases", json={"uscc": HAPPY_USCC}, headers=owner)).json()
    problem(
        await api.get(f"/api/v1/cases/{case['id']}/events", headers=await login(api, "applicant-p004")),
        404,
        "case_not_found",
    )
    events: list[tuple[str, dict]] = []

    async def listen() -> None:
        async with api.stream("GET", f"/api/v1/cases/{case['id']}/events", headers=owner, timeout=10) as response:
            assert response.headers["content-type"].startswith("text/event-stream")
            name = ""
            async for line in response.aiter_lines():
                if line.startswith("event:"):
                    name = line.split(":", 1)[1].strip()
                elif line.startswith("data:"):
                    events.append((name, msgspec.json.decode(line.split(":", 1)[1].strip())))
                    if name == "case.updated":
                        return

    listener = asyncio.create_task(listen())
    while not events:
        await asyncio.sleep(0.05)
    assert events[0][0] == "snapshot" and events[0][1]["status"] == "draft"
    await api.patch(f"/api/v1/cases/{case['id']}", json={"answers": {"route": "general"}}, headers=owner)
    await asyncio.wait_for(listener, 5)
    assert events[-1][0] == "case.updated" and events[-1][1]["data"]["answers"] == ["route"]


async def test_a_case_is_found_by_its_number_only_by_those_who_may_see_it(api):
    owner = await login(api, "applicant-p002")
    platform = api.app.state.platform
    from backend.identity.actor import Actor
    from tests.cases.support import complete_draft

    draft = await complete_draft(platform, Actor(id="P002"))
    number = (await platform.cases.submit(Actor(id="P002"), draft.id, "by-number")).number
    digits = "".join(ch for ch in number if ch.isdigit())
    found = (await api.get("/api/v1/cases", params={"number": digits}, headers=owner)).json()
    assert [c["number"] for c in found] == [number]
    assert (
        await api.get("/api/v1/cases", params={"number": digits}, headers=await login(api, "applicant-p004"))
    ).json() == []
    problem(
        await api.get("/api/v1/cases", params={"number": digits[:-1] + str((int(digits[-1]) + 1) % 10)}, headers=owner),
        422,
        "invalid_case_number",
    )


async def test_a_status_cached_in_one_api_process_follows_a_change_made_in_another(api, pg_url, redis_url, tmp_path):
    """Every API process caches status reads; a change anywhere evicts them all at once (the case
    changes channel through Redis), however long they may keep an entry (here 60 s)."""
    from tests.cases.live import wait_until

    owner = await login(api, "applicant-p002")
    case = (await api.post("/api/v1/cases", json={"uscc": HAPPY_USCC}, headers=owner)).json()
    one_deployment = dict(
        public_url=str(api.base_url).rstrip("/"), connector_base_url="http://127.0.0.1:9/sim"
    )  # the same keys and issuer
    async with (
        serve_platform(
            tmp_path, database_url=pg_url, redis_url=redis_url, status_cache_seconds=60, **one_deployment
        ) as other,
        httpx.AsyncClient(base_url=f"http://127.0.0.1:{other.state.platform.settings.port}") as b,
    ):
        before = (await b.get(f"/api/v1/cases/{case['id']}/status", headers=owner)).json()  # now cached in B
        assert before["status"] == "draft", before
        saved = await api.patch(
            f"/api/v1/cases/{case['id']}", json={"answers": BASE_ANSWERS, "version": case["version"]}, headers=owner
        )  # changed in A
        assert saved.status_code == 200, saved.text

        async def b_sees_it():
            return (await b.get(f"/api/v1/cases/{case['id']}/status", headers=owner)).json()["updated_at"] > before[
                "updated_at"
            ]

        assert await wait_until(b_sees_it, timeout=5, interval=0.05)
