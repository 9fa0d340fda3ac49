"""Smoke suite in embedded mode: the platform exactly as `make run` starts it."""

from __future__ import annotations

import json
import re

import httpx


def test_health_says_embedded(embedded_server):
    response = httpx.get(embedded_server.url + "/healthz")
    assert response.status_code == 200 and response.json()["mode"] == "embedded"
    ready = httpx.get(embedded_server.url + "/readyz").json()
    assert ready == {"status": "ready", "checks": {"database": "ok", "redis": "not_configured"}}


def test_front_ends_and_api_docs_are_served_without_any_cdn(embedded_server):
    for path, marker in [("/", "企业注销登记“一件事”"), ("/kiosk/", "自助服务"), ("/schema", "swagger")]:
        response = httpx.get(embedded_server.url + path)
        assert response.status_code == 200, path
        assert marker in response.text, path
        external = re.findall(r'(?:src|href)="(https?://[^"]+)"', response.text)
        assert external == [], f"{path} loads {external}"
    assert httpx.get(embedded_server.url + "/vendor/swagger-ui/swagger-ui-bundle.js").status_code == 200
    document = httpx.get(embedded_server.url + "/schema/openapi.json").json()
    assert "/healthz" in document["paths"]


def test_every_log_line_is_json_with_the_request_id(embedded_server):
    httpx.get(embedded_server.url + "/healthz", headers={"X-Request-ID": "smoke-abc"})
    lines = [json.loads(line) for line in embedded_server.log().splitlines() if line.startswith("{")]
    access = [
        line for line in lines if line.get("logger") == "backend.access" and line.get("request_id") == "smoke-abc"
    ]
    assert access and access[0]["path"] == "/healthz" and access[0]["status"] == 200
    assert any(line.get("msg") == "worker started" for line in lines), "the in-process worker did not start"
