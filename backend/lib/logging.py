"""Structured JSON logs with the request ID on every line, and ID and mobile numbers masked.

The request ID comes from an incoming ``X-Request-ID`` (if it looks sane) or is made
here; it is returned in the response header, put in problem documents and logged.
"""

from __future__ import annotations

import contextvars
import json
import logging
import os
import re
import sys
import time
from typing import Any
from urllib.parse import unquote_plus

request_id_var: contextvars.ContextVar[str | None] = contextvars.ContextVar("request_id", default=None)

_SAFE_REQUEST_ID = re.compile(r"[A-Za-z0-9._:-]{1,64}")
# 18-character USCCs and resident ID numbers: keep the first 4 and last 2 characters. Any case:
# people type "91350128ma0428396p" or an ID number ending in "x", and logs copy what they typed.
_SENSITIVE = re.compile(r"(?<![0-9A-Za-z])([0-9A-Za-z]{4})[0-9A-Za-z]{12}([0-9A-Za-z]{2})(?![0-9A-Za-z])")
# Mainland mobile numbers (11 digits, 13x–19x; SMS recipients): keep the first 3 and last 4 digits.
_MOBILE = re.compile(r"(?<![0-9])(1[3-9][0-9])[0-9]{4}([0-9]{4})(?![0-9])")
# What a record carries that is not an extra of ours; uvicorn's ``color_message`` is its message
# again with terminal colour codes, for its own text formatter
_STANDARD = set(vars(logging.makeLogRecord({}))) | {"message", "asctime", "taskName", "color_message"}


def mask(text: str) -> str:
    """Mask every 18-character identifier (USCC, resident ID) and mobile number in ``text``."""
    return _MOBILE.sub(r"\1****\2", _SENSITIVE.sub(r"\1************\2", text))


class JsonFormatter(logging.Formatter):
    """One JSON object per line: time, level, logger, message, request_id and extras."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": self.formatTime(record, "%Y-%m-%dT%H:%M:%S") + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": record.getMessage(),
        }
        request_id = request_id_var.get()
        if request_id:
            entry["request_id"] = request_id
        for key, value in record.__dict__.items():
            if key not in _STANDARD and not key.startswith("_"):
                entry[key] = value
        if record.exc_info:
            entry["exc"] = self.formatException(record.exc_info)
        return mask(json.dumps(entry, ensure_ascii=False, default=str))


class TextFormatter(logging.Formatter):
    def format(self, record: logging.LogRecord) -> str:
        return mask(super().format(record))


def configure_logging(level: str = "INFO", fmt: str = "json") -> None:
    """Send every logger (ours, uvicorn's, piccolo's) through one handler on stderr."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(
        JsonFormatter() if fmt == "json" else TextFormatter("%(asctime)s %(levelname)s %(name)s %(message)s")
    )
    handler.formatter.converter = time.gmtime  # type: ignore[union-attr]
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level.upper())
    for name in ("uvicorn", "uvicorn.error", "uvicorn.access", "litestar"):
        logger = logging.getLogger(name)
        logger.handlers[:] = []
        logger.propagate = True
    logging.getLogger("uvicorn.access").disabled = True  # our middleware logs each request once
    quiet_http_clients()


def quiet_http_clients() -> None:
    """httpx logs every request at INFO: a line per agency call and callback, which cost more than
    the call (agency calls are in each case's timeline and the job log; failures still log)."""
    for name in ("httpx", "httpcore"):
        logging.getLogger(name).setLevel(logging.WARNING)


def request_id_middleware(app):
    """ASGI middleware: assign the request ID, echo it, and log one line per request."""
    access = logging.getLogger("backend.access")

    async def middleware(scope, receive, send):
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        incoming = dict(scope.get("headers") or []).get(b"x-request-id", b"").decode("latin-1")
        request_id = (
            incoming if _SAFE_REQUEST_ID.fullmatch(incoming) else os.urandom(16).hex()
        )  # 32 hex digits like a UUID, at half the cost
        scope.setdefault("state", {})["request_id"] = request_id
        token = request_id_var.set(request_id)
        started = time.perf_counter()
        status = 500

        async def send_with_id(message):
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
                message["headers"] = [*message.get("headers", []), (b"x-request-id", request_id.encode())]
            await send(message)

        try:
            await app(scope, receive, send_with_id)
        finally:
            extra = {
                "method": scope.get("method"),
                "path": scope.get("path"),
                "status": status,
                "ms": round((time.perf_counter() - started) * 1000, 2),
            }
            query = scope.get("query_string") or b""
            if query:
                # decoded before the formatter masks it: "%39%31%33%35..." is an identifier too
                extra["query"] = unquote_plus(query.decode("latin-1"))[:500]
            access.info("request", extra=extra)
            request_id_var.reset(token)

    return middleware
