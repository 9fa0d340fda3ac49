"""The API contract a client can rely on: what the OpenAPI document says beyond what Litestar infers.

Litestar describes routes, parameters and wire shapes from the code. This adds, in one place:
- the security schemes (a Bearer access token, or the session cookie with the CSRF header on
  unsafe methods) and, per operation, whether it needs them;
- the problem documents (RFC 9457, ``application/problem+json``) each operation can answer, in
  the shape ``backend.lib.problems`` really sends, instead of Litestar's default
  ``{status_code, detail, extra}``;
- request headers a route reads itself (``Idempotency-Key`` on submission);
- that an answer's shape is stable: every field of a response shape is sent, its default value
  included (no response Struct omits defaults), so each is ``required`` in the document
  (``require_response_fields``); a field that may have no value is sent as ``null``.

The document is built lazily, on the first request for it (building it costs seconds), by
``ContractOpenAPI.to_schema``; ``ContractConfig`` makes Litestar build that class.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field, fields
from typing import Any

from litestar.openapi import OpenAPIConfig
from litestar.openapi.spec import OpenAPI

from backend.lib.problems import PROBLEM_MEDIA_TYPE

# What a handler's ``opt`` may say about the contract (read by ``operation_facts``).
OPT_REQUIRED_HEADERS = "required_headers"  # {"Idempotency-Key": "description"}
OPT_FILE_MEDIA_TYPES = "file_media_types"  # a download's possible media types: ["application/pdf", ...]
OPT_ALSO_MEDIA_TYPES = "also_media_types"  # other renderings of a JSON answer: ["text/html", ...]
FILES = "application/pdf", "image/jpeg", "image/png"  # what materials and result documents can be
EXPORTS = "text/csv", "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def security_schemes(access_cookie: str, csrf_header: str) -> dict[str, Any]:
    """Bearer token, or the session cookie (with the CSRF header on unsafe methods)."""
    return {
        "bearer": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "JWT",
            "description": "访问令牌（脚本与第三方客户端）。The access token of a session (scripts and clients).",
        },
        "session_cookie": {
            "type": "apiKey",
            "in": "cookie",
            "name": access_cookie,
            "description": "浏览器会话（HttpOnly Cookie）。The browser session (an HttpOnly cookie).",
        },
        "csrf_header": {
            "type": "apiKey",
            "in": "header",
            "name": csrf_header,
            "description": "使用 Cookie 会话时，修改类请求须带防伪令牌。"
            " With the cookie session, unsafe methods send the CSRF token (the readable CSRF cookie's value).",
        },
    }


SAFE_METHODS = {"get", "head", "options"}

FIELD_ERROR_SCHEMA: dict[str, Any] = {
    "type": "object",
    "required": ["field", "code", "message"],
    "properties": {
        "field": {"type": "string", "description": "出错字段（点分路径）。The field, as a dotted path."},
        "code": {"type": "string", "description": "稳定的错误码。A stable machine-readable code."},
        "message": {"type": "string", "description": "给人看的说明。A readable message."},
    },
}
PROBLEM_SCHEMA: dict[str, Any] = {
    "type": "object",
    "description": "RFC 9457 problem details, with a stable machine-readable ``code``.",
    "required": ["type", "title", "status", "code"],
    "properties": {
        "type": {"type": "string", "examples": ["/problems/validation-failed"]},
        "title": {"type": "string"},
        "status": {"type": "integer"},
        "code": {"type": "string", "examples": ["validation_failed"]},
        "detail": {"type": "string"},
        "instance": {"type": "string"},
        "request_id": {"type": "string"},
        "errors": {"type": "array", "items": {"$ref": "#/components/schemas/FieldError"}},
        "face_verification": {
            "$ref": "#/components/schemas/FaceVerificationNeeded",
            "description": "人脸识别要求：按此 purpose 与 reference 发起核验。 With ``face_verification_required``:"
            " the verification to start (``POST /api/v1/face-verifications`` with this purpose and reference).",
        },
    },
}
# status → (description, an example code); which of them an operation documents: see problem_statuses
PROBLEMS: dict[int, tuple[str, str]] = {
    400: ("请求格式或字段有误。The request is malformed or has invalid fields.", "validation_failed"),
    401: ("未登录或会话已失效。No valid session.", "unauthenticated"),
    403: ("无权执行此操作。Not allowed for this session.", "forbidden"),
    404: ("资源不存在或无权查看。Not found (or not visible to this session).", "case_not_found"),
    409: ("与当前状态冲突（版本、重复提交）。Conflicts with the current state.", "version_conflict"),
    413: ("请求内容过大。The request body is too large.", "payload_too_large"),
    415: ("不支持的内容类型或文件格式。Unsupported media type or file format.", "unsupported_media_type"),
    429: ("请求过于频繁，请按 Retry-After 稍后再试。Too many requests; retry later.", "rate_limited"),
    422: ("业务规则不允许。A business rule refuses it.", "unprocessable"),
    503: ("暂时无法处理，请按 Retry-After 稍后重试。Temporarily unavailable; retry later.", "database_unavailable"),
}


@dataclass(frozen=True)
class OperationFacts:
    """What the code knows about one operation that the generated document does not say."""

    authenticated: bool = False
    required_headers: dict[str, str] = field(default_factory=dict)
    file_media_types: tuple[str, ...] = ()
    also_media_types: tuple[str, ...] = ()


def operation_facts(app: Any) -> dict[tuple[str, str], OperationFacts]:
    """(path, method) → facts, from each handler's dependencies, guards and ``opt``."""
    from litestar.routes import HTTPRoute

    facts: dict[tuple[str, str], OperationFacts] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            used = set(handler.parsed_fn_signature.parameters) & set(handler.resolve_dependencies())
            authenticated = bool(used & {"actor", "principal"}) or bool(handler.guards)
            for method in handler.http_methods:
                facts[(route.path_format or "/", method.lower())] = OperationFacts(
                    authenticated=authenticated,
                    required_headers=dict(handler.opt.get(OPT_REQUIRED_HEADERS, {})),
                    file_media_types=tuple(handler.opt.get(OPT_FILE_MEDIA_TYPES, ())),
                    also_media_types=tuple(handler.opt.get(OPT_ALSO_MEDIA_TYPES, ())),
                )
    return facts


def problem_statuses(path: str, method: str, facts: OperationFacts) -> list[int]:
    """The problem answers an operation can give: every operation can meet bad input, a missing
    reference and an outage; credentials matter where a session (or a signed message) is checked;
    state conflicts, body limits, media types and rate limits where something is written."""
    statuses = [400, 404, 422, 503]
    if facts.authenticated or method not in SAFE_METHODS:
        statuses += [401, 403]
    if method not in SAFE_METHODS:
        statuses += [409, 413, 415, 429]
    return sorted(statuses)


def _referenced(node: Any, schemas: dict[str, Any], found: set[str]) -> set[str]:
    """Names of the component schemas ``node`` refers to, directly or through other components."""
    if isinstance(node, dict):
        ref = node.get("$ref")
        if isinstance(ref, str) and ref.startswith("#/components/schemas/"):
            name = ref.rsplit("/", 1)[1]
            if name not in found:
                found.add(name)
                _referenced(schemas.get(name), schemas, found)
        for value in node.values():
            _referenced(value, schemas, found)
    elif isinstance(node, list):
        for value in node:
            _referenced(value, schemas, found)
    return found


def require_response_fields(schema: dict[str, Any]) -> set[str]:
    """Mark every property of the shapes only answers use as required (in place); their names.

    Litestar makes a field with a default optional, which is right for a request body but not for
    an answer: responses send every field (see the module's docstring). A shape also read as input
    keeps its optional fields."""
    schemas = schema.get("components", {}).get("schemas", {})
    answered: set[str] = set()
    read: set[str] = set()
    for item in schema.get("paths", {}).values():
        for operation in item.values():
            if not isinstance(operation, dict):
                continue
            for status, answer in operation.get("responses", {}).items():
                if status.startswith("2"):
                    _referenced(answer, schemas, answered)
            _referenced([operation.get("requestBody"), operation.get("parameters")], schemas, read)
    for name in answered - read:
        component = schemas.get(name, {})
        if component.get("type") == "object" and component.get("properties"):
            component["required"] = list(component["properties"])
    return answered - read


def document_contract(
    schema: dict[str, Any], facts: dict[tuple[str, str], OperationFacts], schemes: dict[str, Any]
) -> dict[str, Any]:
    """Add security, problem answers and route-read headers to a generated document (in place)."""
    components = schema.setdefault("components", {})
    components.setdefault("securitySchemes", {}).update(schemes)
    schemas = components.setdefault("schemas", {})
    schemas["Problem"] = PROBLEM_SCHEMA
    schemas["FieldError"] = FIELD_ERROR_SCHEMA
    require_response_fields(schema)
    for path, item in schema.get("paths", {}).items():
        for method, operation in item.items():
            if not isinstance(operation, dict) or "responses" not in operation:
                continue
            known = facts.get((path, method), OperationFacts())
            if known.authenticated:
                cookie: dict[str, list[str]] = (
                    {"session_cookie": []} if method in SAFE_METHODS else {"session_cookie": [], "csrf_header": []}
                )
                operation["security"] = [{"bearer": []}, cookie]
            else:
                operation["security"] = []  # public: no credentials needed
            for name, description in known.required_headers.items():
                params = operation.setdefault("parameters", [])
                if not any(p.get("name", "").lower() == name.lower() for p in params):
                    params.append(
                        {"name": name, "in": "header", "required": True, "description": description}
                        | {"schema": {"type": "string", "minLength": 1, "maxLength": 200}}
                    )
            responses = operation["responses"]
            if known.file_media_types:  # a download: its bytes, in one of these types
                binary = {"schema": {"type": "string", "contentMediaType": "application/octet-stream"}}
                for answer in (r for code, r in responses.items() if code.startswith("2")):
                    answer["content"] = {media_type: dict(binary) for media_type in known.file_media_types}
            for media_type in known.also_media_types:  # e.g. a guide as a printable page
                for answer in (r for code, r in responses.items() if code.startswith("2")):
                    answer.setdefault("content", {})[media_type] = {"schema": {"type": "string"}}
            for status in problem_statuses(path, method, known):
                description, code = PROBLEMS[status]
                responses[str(status)] = {
                    "description": description,
                    "content": {
                        PROBLEM_MEDIA_TYPE: {
                            "schema": {"$ref": "#/components/schemas/Problem"},
                            "example": {
                                "type": f"/problems/{code.replace('_', '-')}",
                                "title": description.split("。")[0],
                                "status": status,
                                "code": code,
                            },
                        }
                    },
                }
    return schema


class ContractOpenAPI(OpenAPI):
    """Litestar's OpenAPI object whose rendering adds the contract (``document_contract``)."""

    facts: Callable[[], dict[tuple[str, str], OperationFacts]] | None = None
    schemes: dict[str, Any] = {}  # set per instance by ContractConfig

    def to_schema(self) -> dict[str, Any]:
        schema = super().to_schema()
        return document_contract(schema, self.facts() if self.facts else {}, self.schemes)


@dataclass
class ContractConfig(OpenAPIConfig):
    """``OpenAPIConfig`` that makes Litestar build a ``ContractOpenAPI`` (set ``facts`` after the app is built)."""

    facts: Callable[[], dict[tuple[str, str], OperationFacts]] | None = None
    security_schemes: dict[str, Any] = field(default_factory=dict)

    def to_openapi_schema(self) -> OpenAPI:
        base = super().to_openapi_schema()
        document = ContractOpenAPI(**{f.name: getattr(base, f.name) for f in fields(base)})
        document.facts = self.facts
        document.schemes = self.security_schemes
        return document
