"""One-way push systems: the platform reports, the outside system acknowledges (好差评, SMS).

Unlike the agency systems (submit, then callbacks), these systems only *receive*: one signed
``POST {message_path}`` per message, answered synchronously with a signed ``PushAck``. The
rules are the agency standard's (``README.md``): detached-JWS request and response
signatures (``signing``), ``Idempotency-Key`` equal to the message's ``message_id`` (same key
and body: the same answer; same ``message_id`` under another key: ``duplicate: true``, no
second effect), ``422`` with coded reasons for a business refusal (a result, not an error),
network trouble, 408/425/429/5xx and unverifiable answers are ``TransientError`` (retry with
the same key), other 4xx ``PermanentError``.

``PushConnector`` is ``HttpConnector`` with one more call, so signing, JWKS loading and
rotation, response verification and error classes are the agency connectors' own.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Literal

import msgspec

from backend.connectors.base import PermanentError, Reason
from backend.connectors.client import Credentials, HttpConnector


@dataclass(frozen=True)
class PushSpec:
    """What the platform knows about one push system (the counterpart of ``SystemSpec``)."""

    code: str
    package: str
    name_zh: str
    name_en: str
    owner_zh: str
    message_path: str
    #: the msgspec Struct of the message body (its fields are the published schema)
    message_type: type
    reference_prefix: str
    notes_zh: str = ""
    #: zh-CN descriptions for the published schema: {struct name: {field: text}} and {struct name: text}
    field_docs_zh: dict[str, dict[str, str]] = field(default_factory=dict)
    schema_docs_zh: dict[str, str] = field(default_factory=dict)
    timeouts: dict[str, float] = field(
        default_factory=lambda: {"connect": 3.0, "read": 10.0, "write": 10.0, "pool": 5.0}
    )
    #: ES256 or SM2, as for the agency systems (``SystemSpec.signature_algorithm``)
    signature_algorithm: str = "ES256"

    @property
    def jws_alg(self) -> str:
        """The JWS ``alg`` of this system's signatures."""
        from backend.connectors.signing import jws_alg

        return jws_alg(self.signature_algorithm)


class PushAck(msgspec.Struct, omit_defaults=True, frozen=True):
    """The receiving system's answer: accepted (with its receipt), or rejected with reasons."""

    status: Literal["accepted", "rejected"]
    receipt: str | None = None
    duplicate: bool = False
    reasons: list[Reason] = []


class PushConnector(HttpConnector):
    """Sends signed messages to one push system; the agency connector's plumbing underneath."""

    def __init__(self, spec: PushSpec, base_url: str, credentials: Credentials, **options) -> None:
        # The base class reads only ``code``, ``timeouts`` and ``jws_alg``, which PushSpec has too.
        super().__init__(spec, base_url, credentials, **options)  # type: ignore[arg-type]
        self.push_spec = spec

    async def push(self, message: msgspec.Struct) -> PushAck:
        """Send one message; ``PushAck(rejected)`` for a business refusal, ``TransientError`` to retry."""
        message_id = getattr(message, "message_id", "")
        if not message_id:
            raise PermanentError(f"{self.system}: message without message_id", code="missing_idempotency_key")
        body = msgspec.json.encode(message)
        status, content, _ = await self._call("POST", self.push_spec.message_path, body, idempotency_key=message_id)
        if status in (200, 201, 202):
            return self._decode(PushAck, content, self.system, status)
        problem = self._problem(status, content)
        if status == 422:
            reasons = list(problem.reasons) or [Reason(code=problem.code, message=problem.detail or problem.code)]
            return PushAck(status="rejected", reasons=reasons)
        raise PermanentError(
            f"{self.system}: HTTP {status} {problem.code}: {problem.detail or ''}", code=problem.code, status=status
        )


def all_push_specs() -> dict[str, PushSpec]:
    """Every push system's spec by code."""
    from backend.connectors import haochaping, sms

    return {s.code: s for s in (haochaping.SPEC, sms.SPEC)}
