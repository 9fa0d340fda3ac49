"""The API contract checked from the client's side: every response a test receives is compared
with what the platform's OpenAPI document promises for that operation and status.

``ContractChecker(document).check(response)`` records a violation when the operation is not in
the document, the status is not documented for it, the media type differs, or the body does not
validate against the documented schema (JSON Schema 2020-12, as OpenAPI 3.1 uses). Attach
``checker.hook`` to an ``httpx`` client's response event hooks; assert ``not checker.violations``
when the client is done.
"""

from __future__ import annotations

import json
import re
from functools import cache
from typing import Any

import httpx
import jsonschema_rs

# Not JSON API operations: front ends, the document itself, streams and the test environment's pages.
UNCHECKED_PREFIXES = ("/schema", "/sandbox", "/sim/", "/shared", "/kiosk", "/staff", "/vendor", "/auth/")


class ContractChecker:
    """Compares responses with an OpenAPI 3.1 document (see the module's docstring)."""

    def __init__(self, document: dict[str, Any]) -> None:
        self.document = document
        self.violations: list[str] = []
        self.checked = 0
        self._templates = [
            (re.compile("^" + re.sub(r"\{[^/]+\}", "[^/]+", path) + "$"), path) for path in document["paths"]
        ]

    def operation(self, method: str, path: str) -> tuple[str, dict[str, Any]] | None:
        """(path template, operation) for a concrete request, the most specific template first."""
        matches = [template for pattern, template in self._templates if pattern.match(path)]
        for template in sorted(matches, key=lambda t: t.count("{")):
            operation = self.document["paths"][template].get(method.lower())
            if operation:
                return template, operation
        return None

    @cache  # noqa: B019  # one checker per test session; schemas are few
    def _validator(self, schema_json: str):
        schema = json.loads(schema_json)
        return jsonschema_rs.Draft202012Validator({**schema, "components": self.document.get("components", {})})

    def check(self, response: httpx.Response) -> None:
        """Record what in ``response`` the document does not promise."""
        request = response.request
        path = request.url.path.rstrip("/") or "/"  # Litestar routes /a/ as /a
        if not path.startswith("/api/") or path.startswith(UNCHECKED_PREFIXES):
            return
        where = f"{request.method} {path} → {response.status_code}"
        found = self.operation(request.method, path)
        if found is None and response.status_code in (404, 405):
            return  # no such route, correctly refused
        if found is None:
            self.violations.append(f"{where}: no such operation in the OpenAPI document")
            return
        template, operation = found
        responses = operation.get("responses", {})
        documented = responses.get(str(response.status_code)) or responses.get("default")
        if documented is None:
            self.violations.append(
                f"{where}: status not documented for {request.method} {template} (has {sorted(responses)})"
            )
            return
        self.checked += 1
        content = documented.get("content") or {}
        if not content or not response.content:
            return
        media_type = response.headers.get("content-type", "").split(";")[0].strip()
        if media_type not in content:
            self.violations.append(f"{where}: media type {media_type} not documented (has {sorted(content)})")
            return
        schema = content[media_type].get("schema")
        if schema is None or not media_type.endswith("json"):
            return
        body = response.json()
        errors = [
            f"{error.instance_path}: {error.message}"
            for error in self._validator(json.dumps(schema, sort_keys=True)).iter_errors(body)
        ]
        if errors:
            self.violations.append(f"{where}: body does not match {template}'s schema: {errors[:3]}")

    async def hook(self, response: httpx.Response) -> None:
        """An ``httpx.AsyncClient`` response event hook (event streams are left to their reader)."""
        if response.headers.get("content-type", "").startswith("text/event-stream"):
            return
        await response.aread()
        self.check(response)


def document_examples(document: dict[str, Any]) -> list[tuple[str, Any, dict[str, Any]]]:
    """(where, example, schema) for every example the document gives beside a schema."""
    found: list[tuple[str, Any, dict[str, Any]]] = []

    def walk(node: Any, where: str) -> None:
        if isinstance(node, dict):
            if isinstance(node.get("schema"), dict) and "example" in node:
                found.append((where, node["example"], node["schema"]))
            if "examples" in node and isinstance(node["examples"], list) and "type" in node:
                found.extend((f"{where}.examples[{i}]", ex, node) for i, ex in enumerate(node["examples"]))
            for key, value in node.items():
                walk(value, f"{where}.{key}")
        elif isinstance(node, list):
            for i, value in enumerate(node):
                walk(value, f"{where}[{i}]")

    walk(document, "$")
    return found
