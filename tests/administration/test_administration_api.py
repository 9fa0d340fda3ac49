"""Administration over HTTP with real sandbox logins: administrators only, RFC 9457 problems with field names."""

from __future__ import annotations

import pytest

from tests.cases.support import HAPPY_USCC
from tests.http import assert_problem as problem

pytestmark = pytest.mark.slow  # a live platform

PROBLEM = "application/problem+json"
CHEN = {"subject": "amr-0042", "name": "陈立", "roles": ["agency_staff"], "agencies": ["amr"], "regions": ["3501"]}


async def test_publish_and_roll_back_over_http(api, catalogs, monkeypatch):
    shipped, newer = catalogs
    state = await api.call("admin-platform", "GET", "/api/v1/admin/catalog/publications")
    assert state.status_code == 200 and (state.json()["current"], state.json()["source"]) == (newer, "default")
    before = await api.call("applicant-p002", "POST", "/api/v1/cases", json={"uscc": HAPPY_USCC})
    assert before.status_code == 201 and before.json()["catalog_version"] == newer
    published = await api.call(
        "admin-platform", "POST", "/api/v1/admin/catalog/publications", json={"version": shipped, "note": "暂缓新版"}
    )
    assert published.status_code == 201 and published.json()["published_by"] == "admin-platform"
    after = await api.call("applicant-p002", "POST", "/api/v1/cases", json={"uscc": HAPPY_USCC})
    assert after.json()["catalog_version"] == shipped
    again = await api.call("applicant-p002", "GET", f"/api/v1/cases/{before.json()['id']}")
    assert again.json()["catalog_version"] == newer
    body = (await api.call("admin-platform", "GET", "/api/v1/admin/catalog/publications")).json()
    assert (body["current"], body["can_roll_back_to"], len(body["history"])) == (shipped, newer, 1)
    back = await api.call("admin-platform", "POST", "/api/v1/admin/catalog/rollback", json={"note": "恢复"})
    assert back.status_code == 201 and (back.json()["action"], back.json()["version"]) == ("rollback", newer)
    problem(await api.call("admin-platform", "POST", "/api/v1/admin/catalog/rollback"), 409, "nothing_to_roll_back")


async def test_unknown_version_is_a_422_naming_the_field(api, catalogs):
    body = problem(
        await api.call("admin-platform", "POST", "/api/v1/admin/catalog/publications", json={"version": "2099.9"}),
        422,
        "unknown_catalog_version",
    )
    assert body["errors"][0]["field"] == "version"
    body = problem(
        await api.call("admin-platform", "POST", "/api/v1/admin/catalog/publications", json={}),
        422,
        "unknown_catalog_version",
    )
    assert body["errors"][0]["field"] == "version"


async def test_staff_directory_over_http(api, catalogs):
    created = await api.call("admin-platform", "POST", "/api/v1/admin/staff", json=CHEN)
    assert created.status_code == 201, created.text
    assert (await api.call("admin-platform", "GET", "/api/v1/admin/staff/amr-0042")).json()["regions"] == ["3501"]
    changed = await api.call("admin-platform", "PATCH", "/api/v1/admin/staff/amr-0042", json={"regions": ["35"]})
    assert changed.status_code == 200 and changed.json()["regions"] == ["35"]
    off = await api.call("admin-platform", "POST", "/api/v1/admin/staff/amr-0042/deactivate")
    assert off.status_code == 200 and off.json()["active"] is False
    listed = await api.call("admin-platform", "GET", "/api/v1/admin/staff", params={"include_inactive": "false"})
    assert listed.json() == []
    body = problem(
        await api.call(
            "admin-platform",
            "POST",
            "/api/v1/admin/staff",
            json={**CHEN, "subject": "w-1", "roles": ["window_staff", "root"], "regions": ["99"]},
        ),
        422,
        "validation_failed",
    )
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("roles.1", "unknown_role"),
        ("regions.0", "unknown_region"),
        ("hall", "hall_required"),
    }
    problem(await api.call("admin-platform", "POST", "/api/v1/admin/staff", json=CHEN), 409, "staff_exists")
    body = problem(await api.call("admin-platform", "POST", "/api/v1/admin/staff", json={}), 422, "validation_failed")
    assert {(e["field"], e["code"]) for e in body["errors"]} == {
        ("subject", "invalid_subject"),
        ("name", "invalid_name"),
        ("roles", "role_required"),
    }
    problem(
        await api.call("admin-platform", "PATCH", "/api/v1/admin/staff/nobody", json={"name": "x"}),
        404,
        "staff_not_found",
    )
    body = problem(
        await api.call("admin-platform", "POST", "/api/v1/admin/staff", json={**CHEN, "roles": "admin"}),
        400,
        "validation_failed",
    )
    assert body["errors"][0]["field"] == "roles"


ENDPOINTS = [
    ("GET", "/api/v1/admin/catalog/publications", None),
    ("POST", "/api/v1/admin/catalog/publications", {"version": "2026.1"}),
    ("POST", "/api/v1/admin/catalog/rollback", {}),
    ("GET", "/api/v1/admin/staff", None),
    ("POST", "/api/v1/admin/staff", CHEN),
    ("GET", "/api/v1/admin/staff/amr-0042", None),
    ("PATCH", "/api/v1/admin/staff/amr-0042", {"name": "x"}),
    ("POST", "/api/v1/admin/staff/amr-0042/deactivate", None),
]


@pytest.mark.parametrize("persona", ["staff-amr", "window-fuzhou", "applicant-p002", "tester-qa", None])
async def test_everyone_but_administrators_is_refused(api, catalogs, persona):
    for method, path, body in ENDPOINTS:
        answer = await api.call(persona, method, path, json=body)
        problem(answer, 401 if persona is None else 403, "unauthenticated" if persona is None else "forbidden")
    state = (await api.call("admin-platform", "GET", "/api/v1/admin/catalog/publications")).json()
    assert state["history"] == [] and (await api.call("admin-platform", "GET", "/api/v1/admin/staff")).json() == []
