"""The API contract: the OpenAPI document declares security, problem answers and required headers,
and every example in it fits its schema. (Responses are checked against it where the security
suite's journeys run: tests/security/conftest.py.)"""

from __future__ import annotations

import json

import jsonschema_rs
import pytest
from litestar.testing import TestClient

from backend.app import create_app
from backend.settings import load_settings
from tests.contract import document_examples
from tests.servers import run_migrations


@pytest.fixture(scope="module")
def document(tmp_path_factory) -> dict:
    data_dir = tmp_path_factory.mktemp("contract")
    url = f"sqlite:///{data_dir}/platform.sqlite"
    run_migrations(database_url=url)
    app = create_app(load_settings(env={}, database_url=url, data_dir=str(data_dir), log_format="text"))
    with TestClient(app) as client:
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
