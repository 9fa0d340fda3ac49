"""HTTP API of the catalog context, through Litestar's test client with the problem handlers."""

import pytest
from litestar.testing import create_test_client

from backend.catalog import ROUTES
from backend.catalog.testing import FULL_ANSWERS, answers
from backend.lib.problems import EXCEPTION_HANDLERS
from tests.http import assert_problem


def _client(**settings):
    from litestar.di import Provide

    from backend.app import build_platform
    from backend.settings import load_settings

    platform = build_platform(load_settings(env={}, **settings))  # connects to nothing; the catalog reads its settings
    return create_test_client(
        route_handlers=ROUTES,
        exception_handlers=EXCEPTION_HANDLERS,
        dependencies={"platform": Provide(lambda: platform, sync_to_thread=False)},
    )


@pytest.fixture(scope="module")
def client():
    with _client() as c:
        yield c


def test_a_xiamen_deployment_serves_xiamen_and_sends_the_rest_elsewhere():
    with _client(jurisdiction="xiamen") as xiamen:
        body = {"entity_type": "company", "answers": answers()}
        at_home = xiamen.post("/api/v1/plans", json={**body, "region": "350203"}).json()
        elsewhere = xiamen.post("/api/v1/plans", json={**body, "region": "350102"}).json()
    assert at_home["jurisdiction"] == "xiamen" and at_home["can_submit"]
    assert "outside_jurisdiction" in {b["code"] for b in elsewhere["blockers"]}


def test_catalog(client):
    r = client.get("/api/v1/catalog")
    assert r.status_code == 200
    doc = r.json()
    assert doc["version"] == "2026.1"
    assert len(doc["items"]) == 19 and len(doc["entity_types"]) == 12 and len(doc["matters"]) == 6
    assert doc["items"][0]["name"] == {
        "zh-CN": "一照一码户清税申报",
        "en": "Tax clearance filing (unified-code taxpayers)",
    }
    route_q = next(q for q in doc["questions"] if q["key"] == "route")
    assert [o["value"] for o in route_q["options"]] == ["simplified", "general"]
    assert {s["code"] for s in doc["systems"]} >= {"etax", "xm-tax", "ytz-bank"}
    assert doc["jurisdiction"]["code"] == "fujian-provincial"


def test_catalog_unknown_version(client):
    assert_problem(client.get("/api/v1/catalog?version=1999.1"), 422, "unknown_catalog_version", "version")


def test_divisions_flag_the_jurisdiction(client):
    divs = {d["code"]: d for d in client.get("/api/v1/divisions").json()}
    assert divs["350102"]["in_jurisdiction"] and divs["350102"]["parent"] == "350100"
    assert not divs["350203"]["in_jurisdiction"]
    assert not divs["350000"]["in_jurisdiction"]


def test_plan(client):
    r = client.post("/api/v1/plans", json={"entity_type": "company", "region": "350102", "answers": FULL_ANSWERS})
    assert r.status_code == 200
    doc = r.json()
    assert doc["catalog_version"] == "2026.1" and doc["can_submit"]
    items = {i["code"]: i for i in doc["items"]}
    assert items["CUSTOMS"]["office"]["code"] == "customs-fz"
    assert items["REG-COMPANY"]["depends_on"] == ["TAX-UNIFIED"]
    assert items["BANK"]["quantity"] == 2
    assert doc["form"]["$schema"].endswith("2020-12/schema")
    assert doc["promised_days"] == 13  # tax 10, registration 1, two accounts one round after the other (PBC Art. 49)
    assert doc["reduction"]["steps"] == {"before": 8, "after": 1, "saved": 7, "percent": 88}


def test_plan_with_pinned_catalog_version(client):
    body = {"entity_type": "company", "region": "350102", "answers": answers(), "catalog_version": "2026.1"}
    assert client.post("/api/v1/plans", json=body).json()["catalog_version"] == "2026.1"
    body["catalog_version"] = "2020.1"
    assert_problem(client.post("/api/v1/plans", json=body), 422, "unknown_catalog_version", "catalog_version")


def test_plan_blockers_are_not_errors(client):
    body = {"entity_type": "company", "region": "350203", "answers": answers(route="simplified", listed_company=True)}
    doc = client.post("/api/v1/plans", json=body).json()
    assert {b["code"] for b in doc["blockers"]} == {"outside_jurisdiction", "simplified_excluded_listed_company"}
    for blocker in doc["blockers"]:  # the one blocker shape the pre-check's agency blockers share
        assert blocker["source"] == "plan" and blocker["agency"] is None and blocker["item"] is None, blocker
        assert set(blocker["message"]) == set(blocker["resolve"]) == {"zh-CN", "en"}, blocker
    assert doc["can_submit"] is False
    assert doc["route_eligibility"]["simplified"]["eligible"] is False


@pytest.mark.parametrize(
    ("entity_type", "region", "changes", "code", "field"),
    [
        ("shop", "350102", {}, "unknown_entity_type", "entity_type"),
        ("company", "440300", {}, "region_outside_fujian", "region"),
        ("company", "359999", {}, "unknown_region", "region"),
        ("company", "350102", {"bank_accounts": -1}, "invalid_answer", "answers.bank_accounts"),
        ("company", "350102", {"favourite": 1}, "unknown_answer", "answers.favourite"),
        ("individual", "350102", {"active_branches": 3}, "inconsistent_answer", "answers.active_branches"),
    ],
)
def test_plan_422(client, entity_type, region, changes, code, field):
    body = {"entity_type": entity_type, "region": region, "answers": answers(**changes)}
    assert_problem(client.post("/api/v1/plans", json=body), 422, code, field)


def test_malformed_body_is_a_validation_problem(client):
    r = client.post("/api/v1/plans", json={"entity_type": "company", "answers": answers()})
    assert_problem(r, 400, "validation_failed")


def test_guide_json(client):
    r = client.get("/api/v1/guides/company?route=simplified")
    assert r.status_code == 200 and r.headers["content-type"].startswith("application/json")
    doc = r.json()
    assert doc["route"] == "simplified" and doc["entity_type"]["code"] == "company"
    assert doc["reduction"]["form_fields"]["before"] > doc["reduction"]["form_fields"]["after"]
    assert "Accept" in [v.strip() for v in r.headers["vary"].split(",")]


@pytest.mark.parametrize("url,headers", [
    ("/api/v1/guides/individual?route=general", {"accept": "text/html,application/xhtml+xml,*/*;q=0.8"}),
    ("/api/v1/guides/individual?route=general&format=html", {"accept": "application/json"}),
])  # fmt: skip
def test_guide_html(client, url, headers):
    r = client.get(url, headers=headers)
    assert r.status_code == 200
    assert r.headers["content-type"] == "text/html; charset=utf-8"
    assert '<html lang="zh-CN">' in r.text and "个体工商户" in r.text


def test_guide_defaults_to_json_for_api_clients(client):
    r = client.get("/api/v1/guides/coop", headers={"accept": "application/json, text/html"})
    assert r.headers["content-type"].startswith("application/json")
    assert r.json()["route"] == "general"


def test_guide_errors(client):
    assert_problem(client.get("/api/v1/guides/shop"), 422, "unknown_entity_type", "entity_type")
    assert_problem(client.get("/api/v1/guides/company?route=fast"), 422, "invalid_route", "route")
    assert_problem(client.get("/api/v1/guides/company?format=pdf"), 422, "invalid_format", "format")


def test_openapi_schema_builds(client):
    doc = client.get("/schema/openapi.json").json()
    assert {"/api/v1/catalog", "/api/v1/plans", "/api/v1/guides/{entity_type}", "/api/v1/divisions"} <= set(
        doc["paths"]
    )
    assert {"Plan", "PlanRequest", "CatalogView"} <= set(doc["components"]["schemas"])


@pytest.mark.parametrize(
    "path, headers",
    [
        ("/api/v1/catalog", {}),
        ("/api/v1/guides/company?route=simplified", {"accept": "text/html"}),
        ("/api/v1/guides/company?route=simplified", {"accept": "application/json"}),
    ],
)
def test_catalog_and_guides_go_out_compressed(client, path, headers):
    """What a phone downloads in bulk is gzip-compressed when the client accepts it (the catalog
    is ~25 KB of JSON), and the answer says it varies with Accept-Encoding for caches."""
    plain = client.get(path, headers={**headers, "accept-encoding": "identity"})
    packed = client.get(path, headers={**headers, "accept-encoding": "gzip"})
    assert plain.status_code == packed.status_code == 200
    assert "content-encoding" not in plain.headers
    assert packed.headers["content-encoding"] == "gzip"
    assert "accept-encoding" in packed.headers["vary"].lower()
    assert packed.content == plain.content  # the client decompressed it
    assert int(packed.headers["content-length"]) < len(plain.content) / 3
