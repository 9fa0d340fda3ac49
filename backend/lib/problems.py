"""RFC 9457 problem details: one exception type and the handlers that render every error.

Every error the API returns is ``application/problem+json`` with a stable machine-readable
``code``; validation errors also carry ``errors``, one entry per offending field.
"""

from __future__ import annotations

import logging
from http import HTTPStatus
from typing import Any

import msgspec
from litestar import Request, Response
from litestar.exceptions import HTTPException, ValidationException

from backend.lib.language import localize, request_locale

PROBLEM_MEDIA_TYPE = "application/problem+json"
log = logging.getLogger("backend.errors")


class FieldError(msgspec.Struct, omit_defaults=True):
    """One invalid field: where it is (dotted path), a stable code and a readable message."""

    field: str
    code: str
    message: str


class Problem(msgspec.Struct, omit_defaults=True):
    """The wire shape of an RFC 9457 problem document."""

    type: str
    title: str
    status: int
    code: str
    detail: str | None = None
    instance: str | None = None
    request_id: str | None = None
    errors: list[FieldError] | None = None
    face_verification: Any = None
    """Extension member: the face verification that would satisfy this refusal (identity's
    ``FaceVerificationNeeded``: ``purpose`` and ``reference`` to start it with), when one would."""


class ProblemError(Exception):
    """Raise from any service or route to answer with a problem document.

    ``code`` is stable and documented (``invalid_uscc``, ``case_not_found`` ...); ``field``
    is a shortcut for a single-field validation error.
    """

    def __init__(
        self,
        status: int,
        code: str,
        detail: str | None = None,
        *,
        title: str | None = None,
        field: str | None = None,
        errors: list[FieldError] | None = None,
        headers: dict[str, str] | None = None,
        face_verification: Any = None,
    ) -> None:
        super().__init__(detail or code)
        self.face_verification = face_verification
        self.status = status
        self.code = code
        self.detail = detail
        self.title = title or HTTPStatus(status).phrase
        if field is not None and errors is None:
            errors = [FieldError(field=field, code=code, message=detail or code)]
        self.errors = errors
        self.headers = headers or {}


def problem_response(request: Request, problem: Problem, headers: dict[str, str] | None = None) -> Response:
    """Render a problem with its media type, echoing the request ID, in the reader's language."""
    locale = request_locale(request)
    problem.detail = localize(problem.detail, locale)
    if problem.errors:
        problem.errors = [FieldError(e.field, e.code, localize(e.message, locale) or e.code) for e in problem.errors]
    problem.instance = problem.instance or request.url.path
    problem.request_id = request.scope.get("state", {}).get("request_id")
    return Response(
        content=msgspec.json.encode(problem),
        status_code=problem.status,
        media_type=PROBLEM_MEDIA_TYPE,
        headers=headers,
    )


def _type_uri(code: str) -> str:
    return f"/problems/{code.replace('_', '-')}"


def handle_problem_error(request: Request, exc: ProblemError) -> Response:
    return problem_response(
        request,
        Problem(
            type=_type_uri(exc.code),
            title=exc.title,
            status=exc.status,
            code=exc.code,
            detail=exc.detail,
            errors=exc.errors,
            face_verification=exc.face_verification,
        ),
        exc.headers,
    )


def _field_from_key(key: str | None, message: str) -> str:
    """Litestar/msgspec report ``$.a.b`` paths inside the message; turn them into ``a.b``."""
    if key:
        return key
    marker = "at `$."
    if marker in message:
        return message.split(marker, 1)[1].split("`", 1)[0]
    return "body"


def handle_validation_error(request: Request, exc: ValidationException) -> Response:
    errors: list[FieldError] = []
    for item in exc.extra or []:
        if isinstance(item, dict):
            message = str(item.get("message", "invalid value"))
            errors.append(
                FieldError(
                    field=_field_from_key(item.get("key"), message),
                    code="invalid_value",
                    message=message,
                )
            )
    if not errors:
        errors.append(FieldError(field="body", code="invalid_value", message=str(exc.detail)))
    return problem_response(
        request,
        Problem(
            type=_type_uri("validation_failed"),
            title="Validation failed",
            status=400 if exc.status_code == 400 else exc.status_code,
            code="validation_failed",
            detail="请求内容有误，请按字段提示修改。 The request has invalid fields.",
            errors=errors,
        ),
    )


# The errors Litestar raises itself: our stable code for each status and what a person reads (its
# own details are English phrases such as "Method Not Allowed"), zh-CN first like every detail of
# ours. A server error's detail is left out.
_HTTP_PROBLEMS: dict[int, tuple[str, str | None]] = {
    400: ("bad_request", "请求格式有误，请检查后重试。 The request is malformed."),
    401: ("unauthenticated", "请先登录。 Please sign in first."),
    403: ("forbidden", "您没有权限进行此操作。 You may not do this."),
    404: ("not_found", "找不到您要的页面或内容。 Nothing was found at this address."),
    405: ("method_not_allowed", "该地址不支持此操作。 This address does not accept this kind of request."),
    406: ("not_acceptable", "无法以请求的格式答复。 The answer cannot be given in the format asked for."),
    409: ("conflict", "内容已被更改，请刷新后重试。 Something changed meanwhile; reload and try again."),
    413: ("payload_too_large", "提交的内容过大，请缩小后重试。 What was sent is too large."),
    415: ("unsupported_media_type", "不支持提交内容的格式。 The format of what was sent is not accepted."),
    422: ("unprocessable", "请求内容无法处理，请检查后重试。 The request could not be processed."),
    429: ("rate_limited", "操作过于频繁，请稍后再试。 Too many requests; please wait a moment."),
    503: ("service_unavailable", None),
}
_OTHER_CLIENT_ERROR = ("http_error", "请求未能完成，请检查后重试。 The request could not be completed.")
_OTHER_SERVER_ERROR = ("internal_error", None)


def handle_http_exception(request: Request, exc: HTTPException) -> Response:
    status = exc.status_code
    code, detail = _HTTP_PROBLEMS.get(status, _OTHER_CLIENT_ERROR if status < 500 else _OTHER_SERVER_ERROR)
    headers = dict(exc.headers or {})
    if status == 429 and "Retry-After" not in headers:
        # Litestar's rate limiter says when the window resets (RateLimit-Reset) but not Retry-After (RFC 9110).
        headers["Retry-After"] = str(max(1, int(headers.get("RateLimit-Reset", "60"))))
    return problem_response(
        request,
        Problem(
            type=_type_uri(code),
            title=HTTPStatus(status).phrase,
            status=status,
            code=code,
            detail=detail,
        ),
        headers,
    )


def handle_bad_encoding(request: Request, exc: UnicodeDecodeError) -> Response:
    """Text that is not UTF-8 where text is expected (a form field, a header): the client's error."""
    return problem_response(
        request,
        Problem(
            type=_type_uri("invalid_encoding"),
            title="Bad Request",
            status=400,
            code="invalid_encoding",
            detail="请求中有文字不是 UTF-8 编码，请检查后重试。",
            errors=[FieldError(field="body", code="invalid_encoding", message="Text must be UTF-8.")],
        ),
    )


def handle_unexpected(request: Request, exc: Exception) -> Response:
    log.exception("unhandled error", extra={"path": request.url.path})
    return problem_response(
        request,
        Problem(
            type=_type_uri("internal_error"),
            title="Internal Server Error",
            status=500,
            code="internal_error",
            detail=(
                "系统繁忙，请稍后再试；已保存的内容不会丢失。 "
                "Something went wrong on our side; nothing you saved is lost."
            ),
        ),
    )


EXCEPTION_HANDLERS: dict[Any, Any] = {
    ProblemError: handle_problem_error,
    ValidationException: handle_validation_error,
    HTTPException: handle_http_exception,
    UnicodeDecodeError: handle_bad_encoding,
    Exception: handle_unexpected,
}
