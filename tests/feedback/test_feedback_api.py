"""测试问题反馈 over HTTP: filing with a screenshot, triage, the state machine (illegal moves are 409),
the reporter's confirm and reopen, the history, statistics by agency and status, and who may see what."""

from __future__ import annotations

import struct
import zlib

import pytest

from tests.http import assert_problem as problem

pytestmark = pytest.mark.slow  # a live platform over HTTP (tests.cases.live)

REPORTS = "/api/v1/feedback/reports"


def tiny_png(side: int = 1) -> bytes:
    """A real 1×1 PNG (or one whose header declares ``side``×``side`` pixels)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))

    header = struct.pack(">IIBBBBB", side, side, 8, 2, 0, 0, 0)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(b"\x00\xff\x00\x00"))
        + chunk(b"IEND", b"")
    )


FIELDS = {
    "page": "/staff/workbench.html",
    "step": "打开待办事项，点击“办结”",
    "expected": "上传结果文书后事项办结",
    "actual": "页面提示“网络错误”",
}


def multipart(fields: dict[str, str], screenshot: bytes | None = None) -> dict:
    """The form as the staff page sends it (FormData: always multipart)."""
    parts: dict = {name: (None, value) for name, value in fields.items()}
    if screenshot is not None:
        parts["screenshot"] = ("shot.png", screenshot, "image/png")
    return parts


async def file(api, persona: str | None, screenshot: bytes | None = None, **overrides):
    return await api.call(persona, "POST", REPORTS, files=multipart({**FIELDS, **overrides}, screenshot))


async def test_a_report_goes_from_filing_to_confirmation_with_its_history(api):
    filed = await file(api, "staff-amr-fuzhou", tiny_png())
    assert filed.status_code == 201, filed.text
    report = filed.json()
    assert (report["agency"], report["level"], report["region"], report["status"]) == ("amr", "city", "3501", "new")
    assert report["has_screenshot"] and report["page"] == FIELDS["page"]
    rid = report["id"]
    shot = await api.call("staff-amr-fuzhou", "GET", f"{REPORTS}/{rid}/screenshot")
    assert shot.status_code == 200 and shot.headers["content-type"] == "image/png" and shot.content == tiny_png()

    # the platform team only; and only the moves the state machine has
    problem(
        await api.call(
            "staff-amr-fuzhou", "POST", f"{REPORTS}/{rid}/triage", json={"severity": "major", "assignee": "王工"}
        ),
        403,
        "forbidden",
    )
    problem(
        await api.call("admin-platform", "POST", f"{REPORTS}/{rid}/status", json={"status": "fixed"}),
        409,
        "illegal_feedback_transition",
    )
    problem(
        await api.call(
            "admin-platform", "POST", f"{REPORTS}/{rid}/triage", json={"severity": "awful", "assignee": "王工"}
        ),
        422,
        "invalid_severity",
        "severity",
    )
    problem(
        await api.call(
            "admin-platform", "POST", f"{REPORTS}/{rid}/triage", json={"severity": "major", "assignee": " "}
        ),
        422,
        "feedback_field_required",
        "assignee",
    )
    triaged = await api.call(
        "admin-platform",
        "POST",
        f"{REPORTS}/{rid}/triage",
        json={"severity": "major", "assignee": "王工", "note": "前端"},
    )
    assert triaged.status_code == 200, triaged.text
    assert (triaged.json()["status"], triaged.json()["severity"], triaged.json()["assignee"]) == (
        "triaged",
        "major",
        "王工",
    )
    problem(
        await api.call("staff-amr-fuzhou", "POST", f"{REPORTS}/{rid}/confirm", json={}),
        409,
        "illegal_feedback_transition",
    )
    problem(
        await api.call("admin-platform", "POST", f"{REPORTS}/{rid}/status", json={"status": "confirmed"}),
        409,
        "illegal_feedback_transition",
    )
    problem(
        await api.call("admin-platform", "POST", f"{REPORTS}/{rid}/status", json={"status": "done"}),
        422,
        "invalid_feedback_status",
        "status",
    )
    for status in ("in_progress", "fixed"):
        moved = await api.call("admin-platform", "POST", f"{REPORTS}/{rid}/status", json={"status": status})
        assert moved.status_code == 200 and moved.json()["status"] == status, moved.text
    problem(
        await api.call("admin-platform", "POST", f"{REPORTS}/{rid}/status", json={"status": "in_progress"}),
        409,
        "illegal_feedback_transition",
    )

    # only the reporter confirms or reopens; a colleague of the same agency sees it but may not
    problem(await api.call("staff-amr", "POST", f"{REPORTS}/{rid}/confirm", json={}), 403, "not_the_reporter")
    problem(
        await api.call("admin-platform", "POST", f"{REPORTS}/{rid}/reopen", json={"note": "x"}), 403, "not_the_reporter"
    )
    problem(
        await api.call("staff-amr-fuzhou", "POST", f"{REPORTS}/{rid}/reopen", json={"note": ""}),
        422,
        "feedback_field_required",
        "note",
    )
    reopened = await api.call("staff-amr-fuzhou", "POST", f"{REPORTS}/{rid}/reopen", json={"note": "仍然报错"})
    assert reopened.json()["status"] == "reopened", reopened.text
    problem(
        await api.call("staff-amr-fuzhou", "POST", f"{REPORTS}/{rid}/confirm", json={}),
        409,
        "illegal_feedback_transition",
    )
    for status in ("in_progress", "fixed"):
        assert (
            await api.call("admin-platform", "POST", f"{REPORTS}/{rid}/status", json={"status": status})
        ).status_code == 200
    confirmed = await api.call("staff-amr-fuzhou", "POST", f"{REPORTS}/{rid}/confirm", json={"note": "已好"})
    assert confirmed.json()["status"] == "confirmed", confirmed.text
    problem(
        await api.call("staff-amr-fuzhou", "POST", f"{REPORTS}/{rid}/reopen", json={"note": "again"}),
        409,
        "illegal_feedback_transition",
    )
    problem(
        await api.call(
            "admin-platform", "POST", f"{REPORTS}/{rid}/triage", json={"severity": "minor", "assignee": "李工"}
        ),
        409,
        "illegal_feedback_transition",
    )

    history = (await api.call("staff-amr", "GET", f"{REPORTS}/{rid}")).json()["events"]
    assert [(e["action"], e["from_status"], e["to_status"]) for e in history] == [
        ("filed", "", "new"),
        ("triaged", "new", "triaged"),
        ("status", "triaged", "in_progress"),
        ("status", "in_progress", "fixed"),
        ("reopened", "fixed", "reopened"),
        ("status", "reopened", "in_progress"),
        ("status", "in_progress", "fixed"),
        ("confirmed", "fixed", "confirmed"),
    ]
    assert history[1]["actor_id"] == "admin-platform" and history[1]["detail"] == {
        "severity": "major",
        "assignee": "王工",
        "note": "前端",
    }
    assert history[4]["detail"]["note"] == "仍然报错" and history[4]["actor_id"] == history[0]["actor_id"]
    assert all(e["at"] > 0 for e in history)


async def file_with_key(api, persona: str, key: str, screenshot: bytes | None = None):
    headers = {**await api.login(persona), "Idempotency-Key": key}
    return await api.client.post(REPORTS, files=multipart(FIELDS, screenshot), headers=headers)


async def test_a_retried_filing_files_once(api):
    first = await file_with_key(api, "staff-etax", "filing-1", tiny_png())
    again = await file_with_key(api, "staff-etax", "filing-1", tiny_png())
    assert first.status_code == 201 and again.status_code == 201, (first.text, again.text)
    assert again.json()["id"] == first.json()["id"]
    other = await file_with_key(api, "staff-amr", "filing-1")  # keys are per reporter
    assert other.json()["id"] != first.json()["id"]
    fresh = await file(api, "staff-etax")
    assert fresh.json()["id"] != first.json()["id"]
    assert (await api.call("admin-platform", "GET", "/api/v1/feedback/stats")).json()["total"] == 3
    problem(await file_with_key(api, "staff-etax", "k" * 101), 422, "invalid_idempotency_key")


async def test_bad_input_is_a_problem_naming_the_field(api):
    problem(await file(api, "staff-etax", actual=""), 422, "feedback_field_required", "actual")
    problem(await file(api, "staff-etax", page="x" * 501), 422, "feedback_field_too_long", "page")
    problem(await file(api, "staff-etax", b"%PDF-1.4\n%%EOF\n"), 415, "unsupported_screenshot", "screenshot")
    problem(await file(api, "staff-etax", b"GIF89a" + b"\0" * 20), 415, "unsupported_screenshot", "screenshot")
    problem(
        await file(api, "staff-etax", tiny_png() + b"\0" * (2 * 1024 * 1024)), 413, "screenshot_too_large", "screenshot"
    )
    problem(await file(api, "staff-etax", tiny_png()[:20]), 422, "unsupported_material", "screenshot")  # damaged
    problem(await file(api, "staff-etax", tiny_png(100_000)), 422, "unsafe_material", "screenshot")  # a pixel bomb
    assert (await api.call("admin-platform", "GET", REPORTS)).json() == []  # nothing half-saved
    problem(
        await api.call("staff-etax", "GET", REPORTS, params={"status": "nope"}),
        422,
        "invalid_feedback_status",
        "status",
    )
    no_shot = await file(api, "staff-etax")
    assert no_shot.status_code == 201 and not no_shot.json()["has_screenshot"]
    problem(
        await api.call("staff-etax", "GET", f"{REPORTS}/{no_shot.json()['id']}/screenshot"), 404, "screenshot_not_found"
    )


async def test_each_agency_sees_its_own_and_the_platform_team_sees_all(api):
    amr = (await file(api, "staff-amr-fuzhou", tiny_png())).json()
    pingtan = (await file(api, "window-pingtan")).json()
    assert (pingtan["agency"], pingtan["level"]) == ("hall-350128", "county")
    assert pingtan["agency_name"]["zh-CN"] == "平潭县（平潭综合实验区）政务服务大厅"
    assert amr["agency_name"]["zh-CN"] == "福建省市场监管智慧应用一体化平台"
    etax = (await file(api, "staff-etax")).json()
    assert (etax["agency"], etax["level"]) == ("etax", "province")

    # another agency's staff: 404 for the report, its screenshot and every action
    for persona in ("staff-xm-tax", "window-fuzhou", "staff-etax"):
        problem(await api.call(persona, "GET", f"{REPORTS}/{amr['id']}"), 404, "feedback_not_found")
        problem(await api.call(persona, "GET", f"{REPORTS}/{amr['id']}/screenshot"), 404, "feedback_not_found")
        problem(await api.call(persona, "POST", f"{REPORTS}/{amr['id']}/confirm", json={}), 404, "feedback_not_found")
    assert [r["id"] for r in (await api.call("staff-amr", "GET", REPORTS)).json()] == [amr["id"]]
    assert [r["id"] for r in (await api.call("window-pingtan", "GET", REPORTS)).json()] == [pingtan["id"]]
    assert (await api.call("staff-xm-tax", "GET", REPORTS)).json() == []
    everything = (await api.call("admin-platform", "GET", REPORTS)).json()
    assert [r["id"] for r in everything] == [etax["id"], pingtan["id"], amr["id"]]  # newest first
    only_amr = (await api.call("admin-platform", "GET", REPORTS, params={"agency": "amr"})).json()
    assert [r["id"] for r in only_amr] == [amr["id"]]

    # applicants and terminals are not trial staff; no session, no entry
    for persona in ("applicant-p002", "kiosk-fz-01", "tester-qa"):
        problem(await file(api, persona), 403, "feedback_staff_only")
        problem(await api.call(persona, "GET", REPORTS), 403, "feedback_staff_only")
        problem(await api.call(persona, "GET", f"{REPORTS}/{amr['id']}"), 404, "feedback_not_found")
    problem(await api.call(None, "GET", REPORTS), 401, "unauthenticated")
    problem(await file(api, None), 401, "unauthenticated")


async def test_statistics_by_agency_and_status(api):
    a1 = (await file(api, "staff-amr")).json()
    await file(api, "staff-amr-fuzhou")
    await file(api, "staff-etax")
    await api.call(
        "admin-platform", "POST", f"{REPORTS}/{a1['id']}/triage", json={"severity": "minor", "assignee": "王工"}
    )

    stats = (await api.call("admin-platform", "GET", "/api/v1/feedback/stats")).json()
    assert stats["total"] == 3
    assert stats["by_status"] == {"new": 2, "triaged": 1, "in_progress": 0, "fixed": 0, "confirmed": 0, "reopened": 0}
    by_agency = {
        row["agency"]: (row["total"], row["by_status"]["new"], row["by_status"]["triaged"])
        for row in stats["by_agency"]
    }
    assert by_agency == {"amr": (2, 1, 1), "etax": (1, 1, 0)}

    own = (await api.call("staff-amr-fuzhou", "GET", "/api/v1/feedback/stats")).json()
    assert own["total"] == 2 and [row["agency"] for row in own["by_agency"]] == ["amr"]
    nothing = (await api.call("staff-xm-tax", "GET", "/api/v1/feedback/stats")).json()
    assert nothing["total"] == 0 and nothing["by_agency"] == []
    problem(await api.call("applicant-p002", "GET", "/api/v1/feedback/stats"), 403, "feedback_staff_only")
