"""征求意见 over HTTP: a catalog version opened to the agencies, comments per item and guide section,
replies, resolutions, and publication held back until every comment is resolved or an
administrator overrides with a reason."""

from __future__ import annotations

import pytest

from tests.http import assert_problem as problem

pytestmark = pytest.mark.slow  # a live platform over HTTP (tests.cases.live)

C = "/api/v1/consultations"
PUBLISH = "/api/v1/admin/catalog/publications"


async def test_a_version_is_published_only_when_every_comment_is_resolved(admin_api, catalogs):
    api = admin_api
    shipped, _newer = catalogs
    problem(await api.call("staff-amr", "POST", C, json={"version": shipped}), 403, "forbidden")
    problem(
        await api.call("admin-platform", "POST", C, json={"version": "2099.9"}),
        422,
        "unknown_catalog_version",
        "version",
    )
    opened = await api.call("admin-platform", "POST", C, json={"version": shipped, "note": "请各单位 5 个工作日内反馈"})
    assert opened.status_code == 201, opened.text
    assert (opened.json()["status"], opened.json()["comments"]) == ("open", 0)
    assert "REG-COMPANY" in [i["code"] for i in opened.json()["items"]] and "materials" in opened.json()["sections"]
    problem(await api.call("admin-platform", "POST", C, json={"version": shipped}), 409, "consultation_exists")

    path = f"{C}/{shipped}/comments"
    problem(
        await api.call("staff-etax", "POST", path, json={"item_code": "NOPE", "section": "materials", "body": "x"}),
        422,
        "unknown_item",
        "item_code",
    )
    problem(
        await api.call("staff-etax", "POST", path, json={"item_code": "TAX-UNIFIED", "section": "nope", "body": "x"}),
        422,
        "unknown_section",
        "section",
    )
    problem(
        await api.call(
            "staff-etax", "POST", path, json={"item_code": "TAX-UNIFIED", "section": "materials", "body": " "}
        ),
        422,
        "feedback_field_required",
        "body",
    )
    problem(
        await api.call(
            "applicant-p002", "POST", path, json={"item_code": "TAX-UNIFIED", "section": "materials", "body": "x"}
        ),
        403,
        "consultation_staff_only",
    )
    first = await api.call(
        "staff-etax",
        "POST",
        path,
        json={
            "item_code": "TAX-UNIFIED",
            "section": "materials",
            "body": "清税证明应由系统自动获取，不再要求申请人提交",
        },
    )
    assert first.status_code == 201, first.text
    assert (first.json()["agency"], first.json()["status"]) == ("etax", "open")
    second = await api.call(
        "window-fuzhou",
        "POST",
        path,
        json={"item_code": "REG-COMPANY", "section": "time_limit", "body": "办理时限与窗口实际不一致"},
    )
    assert second.status_code == 201, second.text
    c1, c2 = first.json()["id"], second.json()["id"]

    replied = await api.call("admin-platform", "POST", f"{path}/{c1}/replies", json={"body": "已与税务部门核实"})
    assert [r["body"] for r in replied.json()["replies"]] == ["已与税务部门核实"], replied.text
    problem(await api.call("staff-etax", "POST", f"{path}/nope/replies", json={"body": "x"}), 404, "comment_not_found")

    # two open comments: publication is refused, nothing is published
    refused = problem(
        await api.call("admin-platform", "POST", PUBLISH, json={"version": shipped}), 409, "unresolved_comments"
    )
    assert "2" in refused["detail"]
    assert (await api.call("admin-platform", "GET", PUBLISH)).json()["history"] == []

    problem(
        await api.call("staff-etax", "POST", f"{path}/{c1}/resolution", json={"resolution": "adopted", "note": "x"}),
        403,
        "forbidden",
    )
    problem(
        await api.call("admin-platform", "POST", f"{path}/{c1}/resolution", json={"resolution": "maybe", "note": "x"}),
        422,
        "unknown_resolution",
        "resolution",
    )
    problem(
        await api.call("admin-platform", "POST", f"{path}/{c1}/resolution", json={"resolution": "adopted", "note": ""}),
        422,
        "feedback_field_required",
        "note",
    )
    done = await api.call(
        "admin-platform",
        "POST",
        f"{path}/{c1}/resolution",
        json={"resolution": "adopted", "note": "改为部门间共享获取"},
    )
    assert (done.json()["status"], done.json()["resolution"], done.json()["resolved_by"]) == (
        "resolved",
        "adopted",
        "admin-platform",
    )
    problem(
        await api.call(
            "admin-platform", "POST", f"{path}/{c1}/resolution", json={"resolution": "declined", "note": "x"}
        ),
        409,
        "comment_resolved",
    )
    problem(await api.call("admin-platform", "POST", PUBLISH, json={"version": shipped}), 409, "unresolved_comments")
    await api.call(
        "admin-platform", "POST", f"{path}/{c2}/resolution", json={"resolution": "declined", "note": "以法定时限为准"}
    )

    published = await api.call("admin-platform", "POST", PUBLISH, json={"version": shipped})
    assert published.status_code == 201, published.text
    view = (await api.call("staff-amr", "GET", f"{C}/{shipped}")).json()
    assert (view["status"], view["comments"], view["unresolved"], view["override_reason"]) == ("closed", 2, 0, "")
    assert [(t["item_code"], t["section"], t["resolution"]) for t in view["threads"]] == [
        ("TAX-UNIFIED", "materials", "adopted"),
        ("REG-COMPANY", "time_limit", "declined"),
    ]
    problem(
        await api.call(
            "staff-etax", "POST", path, json={"item_code": "TAX-UNIFIED", "section": "fees", "body": "晚了"}
        ),
        409,
        "consultation_closed",
    )


async def test_an_administrator_may_publish_over_open_comments_with_a_reason(admin_api, catalogs):
    api = admin_api
    shipped, _newer = catalogs
    assert (await api.call("admin-platform", "POST", C, json={"version": shipped})).status_code == 201
    comment = await api.call(
        "staff-amr",
        "POST",
        f"{C}/{shipped}/comments",
        json={"item_code": "REG-COMPANY", "section": "basis", "body": "依据已修订"},
    )
    assert comment.status_code == 201, comment.text
    problem(
        await api.call("admin-platform", "POST", PUBLISH, json={"version": shipped, "override_reason": "  "}),
        409,
        "unresolved_comments",
    )
    published = await api.call(
        "admin-platform",
        "POST",
        PUBLISH,
        json={"version": shipped, "override_reason": "政策 12 月 1 日起施行，先行发布"},
    )
    assert published.status_code == 201, published.text
    listed = (await api.call("window-pingtan", "GET", C)).json()
    assert [(c["version"], c["status"], c["unresolved"], c["override_reason"]) for c in listed] == [
        (shipped, "closed", 1, "政策 12 月 1 日起施行，先行发布")
    ]
    problem(await api.call("staff-amr", "GET", f"{C}/2099.9"), 404, "consultation_not_found")
    problem(await api.call(None, "GET", C), 401, "unauthenticated")
    problem(await api.call("applicant-p002", "GET", C), 403, "consultation_staff_only")


async def test_versions_never_consulted_publish_as_before(admin_api, catalogs):
    shipped, _newer = catalogs
    published = await admin_api.call("admin-platform", "POST", PUBLISH, json={"version": shipped})
    assert published.status_code == 201, published.text
