"""The API contract: the OpenAPI document declares security, problem answers and required headers,
every example in it fits its schema, and answers keep a stable shape (every field sent, defaults
included, and required in the document). (Responses are checked against it where the security
suite's journeys run: tests/security/conftest.py.)"""

from __future__ import annotations

import json
import typing
from collections.abc import Iterator
from typing import Any

import jsonschema_rs
import msgspec
import pytest
from litestar.testing import TestClient

from backend.app import create_app
from backend.settings import load_settings
from tests.contract import document_examples
from tests.servers import run_migrations


@pytest.fixture(scope="module")
def client(tmp_path_factory) -> Iterator[TestClient]:
    data_dir = tmp_path_factory.mktemp("contract")
    url = f"sqlite:///{data_dir}/platform.sqlite"
    run_migrations(database_url=url)
    app = create_app(load_settings(env={}, database_url=url, data_dir=str(data_dir), log_format="text"))
    with TestClient(app) as client:
        yield client


@pytest.fixture(scope="module")
def document(client) -> dict:
    response = client.get("/schema/openapi.json")
    assert response.status_code == 200
    return response.json()


def operations(document: dict):
    for path, item in document["paths"].items():
        for method, operation in item.items():
            if isinstance(operation, dict) and "responses" in operation:
                yield path, method, operation


def test_every_example_fits_its_schema(document):
    examples = document_examples(document)
    assert len(examples) > 20, "the document carries examples"
    wrong = []
    for where, example, schema in examples:
        validator = jsonschema_rs.Draft202012Validator({**schema, "components": document["components"]})
        if not validator.is_valid(example):
            wrong.append(f"{where}: {json.dumps(example, ensure_ascii=False)[:80]}")
    assert not wrong, "\n".join(wrong[:20])


def test_every_error_answer_is_documented_as_a_problem(document):
    for path, method, operation in operations(document):
        errors = {status: r for status, r in operation["responses"].items() if status.startswith(("4", "5"))}
        assert {"400", "404", "422", "503"} <= set(errors), (method, path, sorted(errors))
        if method != "get":
            assert {"401", "403", "409"} <= set(errors), (method, path, sorted(errors))
        for status, answer in errors.items():
            schema = answer["content"]["application/problem+json"]["schema"]
            assert schema == {"$ref": "#/components/schemas/Problem"}, (method, path, status)
    problem = document["components"]["schemas"]["Problem"]
    assert {"type", "title", "status", "code"} <= set(problem["required"])


def test_security_is_declared_per_operation(document):
    schemes = document["components"]["securitySchemes"]
    assert schemes["bearer"]["scheme"] == "bearer" and schemes["session_cookie"]["in"] == "cookie"
    assert schemes["csrf_header"] == schemes["csrf_header"] | {"in": "header", "name": "X-CSRF-Token"}
    secured = {(m, p): o["security"] for p, m, o in operations(document)}
    assert secured[("get", "/api/v1/catalog")] == []  # public
    assert secured[("get", "/api/v1/cases/{case_id}")] == [{"bearer": []}, {"session_cookie": []}]
    assert secured[("post", "/api/v1/cases/{case_id}/submit")] == [
        {"bearer": []},
        {"session_cookie": [], "csrf_header": []},
    ]
    assert sum(1 for s in secured.values() if s) > 60


def test_submission_documents_its_required_idempotency_key(document):
    submit = document["paths"]["/api/v1/cases/{case_id}/submit"]["post"]
    key = next(p for p in submit["parameters"] if p["name"] == "Idempotency-Key")
    assert key["in"] == "header" and key["required"] is True


def test_the_document_carries_no_generated_examples(client):
    """Litestar's generated examples are random strings that fit no schema: only the Structs' own."""
    assert client.app.openapi_config.create_examples is False


def response_structs(app: Any, document: dict) -> dict[type[msgspec.Struct], str]:
    """Every Struct an operation in the document answers with (directly or nested) → one route using it."""
    from litestar.routes import HTTPRoute

    found: dict[type[msgspec.Struct], str] = {}

    def walk(annotation: Any, where: str) -> None:
        if typing.get_origin(annotation) is not None:
            for argument in typing.get_args(annotation):
                walk(argument, where)
        elif isinstance(annotation, type) and issubclass(annotation, msgspec.Struct) and annotation not in found:
            found[annotation] = where
            for hint in typing.get_type_hints(annotation).values():
                walk(hint, where)

    for route in app.routes:
        if isinstance(route, HTTPRoute) and (route.path_format or "/") in document["paths"]:
            for handler in route.route_handlers:
                walk(handler.parsed_fn_signature.return_type.annotation, route.path)
    return found


def test_no_response_shape_drops_its_default_values(client, document):
    """A client can rely on every field of an answer being there: `items_done: 0`, `[]`, `false`, `null`."""
    structs = response_structs(client.app, document)
    assert len(structs) > 60
    omitting = [
        f"{s.__module__}.{s.__qualname__} ({where})"
        for s, where in structs.items()
        if s.__struct_config__.omit_defaults
    ]
    assert not omitting, "response shapes with omit_defaults=True:\n" + "\n".join(omitting)


def test_every_field_of_an_answer_is_required_in_the_document(document):
    schemas = document["components"]["schemas"]
    for name in (
        "CaseView",
        "CaseSummary",
        "CaseStatus",
        "cases_schemas_ItemView",
        "Plan",
        "Me",
        "cases_schemas_Readiness",
    ):
        schema = schemas[name]
        assert set(schema["required"]) == set(schema["properties"]), name
    assert {"timeline_intact", "plan_problems", "number"} <= set(schemas["CaseView"]["required"])
    assert "items_done" in schemas["CaseSummary"]["required"]
    # a request body keeps its optional fields
    assert "version" not in schemas["CaseUpdate"].get("required", [])


def test_a_fresh_draft_answers_with_every_field(client):
    """A new draft's view and summary carry their defaults: no items done, an intact timeline, no number yet."""
    token = client.post("/sandbox/token", json={"persona": "applicant-p002"}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    created = client.post("/api/v1/cases", json={"uscc": "91350102MA0102003U"}, headers=headers)
    assert created.status_code == 201, created.text
    view = created.json()
    assert view["timeline_intact"] is True
    assert view["number"] is None and view["submitted_at"] is None
    assert view["items"] == [] and view["plan_problems"] is not None
    summary = next(c for c in client.get("/api/v1/cases", headers=headers).json() if c["id"] == view["id"])
    assert summary["items_done"] == 0 and summary["items_total"] == 0
    assert summary["number"] is None
    status = client.get(f"/api/v1/cases/{view['id']}/status", headers=headers).json()
    assert status["items"] == [] and status["number"] is None


def test_one_blocker_shape_and_the_face_purposes_are_documented(document):
    schemas = document["components"]["schemas"]
    blocker = schemas["Blocker"]
    assert set(blocker["required"]) == {
        "code",
        "message",
        "source",
        "resolve",
        "field",
        "legal_basis",
        "agency",
        "item",
    }
    assert blocker["properties"]["source"]["enum"] == ["plan", "agency"]
    readiness = schemas["cases_schemas_Readiness"]["properties"]["blockers"]
    assert readiness["items"] == {"$ref": "#/components/schemas/Blocker"}
    needed = schemas["FaceVerificationNeeded"]
    purposes = ["submit", "assisted_consent", "kiosk_login"]
    assert needed["properties"]["purpose"]["enum"] == purposes and set(needed["required"]) == {"purpose", "reference"}
    assert schemas["FaceStartRequest"]["properties"]["purpose"]["enum"] == purposes
    problem = schemas["Problem"]["properties"]["face_verification"]
    assert problem["$ref"] == "#/components/schemas/FaceVerificationNeeded"


def test_a_missing_face_verification_names_the_one_to_start(client):
    """Submitting without face verification: the refusal says which purpose and reference satisfy it."""
    token = client.post("/sandbox/token", json={"persona": "applicant-p002"}).json()["access_token"]
    headers = {"Authorization": f"Bearer {token}"}
    case = client.post("/api/v1/cases", json={"uscc": "91350102MA0102003U"}, headers=headers).json()
    answers = {"route": "general", "under_investigation_or_litigation": False, "revoked_or_closed": False}
    answers |= {"unpaid_penalties": False, "listed_company": False}
    saved = client.patch(f"/api/v1/cases/{case['id']}", json={"answers": answers}, headers=headers)
    assert saved.status_code == 200, saved.text
    refused = client.post(f"/api/v1/cases/{case['id']}/submit", headers={**headers, "Idempotency-Key": "k-face"})
    assert refused.status_code == 422, refused.text
    body = refused.json()
    assert body["code"] == "case_incomplete"
    assert "face_verification_required" in {e["code"] for e in body["errors"]}
    assert body["face_verification"] == {"purpose": "submit", "reference": case["id"]}
