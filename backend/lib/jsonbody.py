"""Every JSON body the platform reads is bounded in depth before it is decoded.

msgspec (and the standard library) decode recursively: a body of a thousand nested arrays raises
``RecursionError`` deep inside the decoder, and a body a little shallower than that decodes and
then overflows whatever walks it next (form validation, logging, re-encoding). No body the API
defines nests deeper than a handful of levels, so anything past ``MAX_DEPTH`` is refused up front
with a 400 ``json_too_deep`` problem.

Used by the app's request class (every ``JSONBody`` parameter) and by the routes that decode raw
bytes themselves (signed agency callbacks, token refresh, signing callbacks, JWS headers).
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from litestar import Request
from litestar.types import Empty

from backend.lib.problems import ProblemError

MAX_DEPTH = 32
"""The deepest nesting of arrays and objects accepted in a request body (the deepest the API defines is 4)."""

# A JSON string (escapes included), written so the regex engine runs it without backtracking.
_STRING = re.compile(rb'"[^"\\]*(?:\\.[^"\\]*)*"', re.DOTALL)
_NOT_BRACKET = re.compile(rb"[^\[\]{}]+")
_INNERMOST = re.compile(rb"\[\]|\{\}")


def too_deep(raw: bytes | str, limit: int = MAX_DEPTH) -> bool:
    """Whether ``raw`` (JSON) nests arrays and objects more than ``limit`` deep.

    Strings are dropped first (brackets inside them do not count), then everything but the
    brackets; each pass then removes the innermost empty pairs, so what is left after ``limit``
    passes is nesting deeper than ``limit``. Every step is a C-speed regex over the remainder.
    """
    data = raw.encode() if isinstance(raw, str) else bytes(raw)
    brackets = _NOT_BRACKET.sub(b"", _STRING.sub(b"", data))
    for _ in range(limit):
        if not brackets:
            return False
        brackets = _INNERMOST.sub(b"", brackets)
    return bool(brackets)


def refuse_if_too_deep(raw: bytes | str, field: str = "body") -> None:
    """Raise the 400 ``json_too_deep`` problem when ``raw`` nests deeper than ``MAX_DEPTH``."""
    if too_deep(raw):
        raise ProblemError(
            400,
            "json_too_deep",
            f"请求内容嵌套层级过多（最多 {MAX_DEPTH} 层）。 The JSON body is nested more than {MAX_DEPTH} levels deep.",
            field=field,
        )


def decode(raw: bytes | str, *, type: Any = Any, field: str = "body", **options: Any) -> Any:  # noqa: A002
    """``msgspec.json.decode`` for bytes from outside: depth-checked first (400 ``json_too_deep``)."""
    refuse_if_too_deep(raw, field)
    return msgspec.json.decode(raw, type=type, **options)


class BoundedJsonRequest(Request):
    """The app's request class: ``request.json()`` (every ``JSONBody`` parameter) checks depth first."""

    async def json(self) -> Any:
        """The decoded JSON body, refused with 400 ``json_too_deep`` when nested too deeply."""
        if self._json is Empty and self._connection_state.json is Empty:  # not decoded yet
            refuse_if_too_deep(await self.body())
        return await super().json()
