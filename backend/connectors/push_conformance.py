"""Conformance checks for the push systems (好差评, SMS): the kit's checks for one-way systems.

    python -m backend.connectors.conformance --system haochaping --base-url http://127.0.0.1:8900/sim/haochaping

Same key handling and report as the agency kit (``conformance.py``, which hands push systems
here); the checks: JWKS published; a valid signed message is accepted with a receipt (response
signature verified); the same key and body give the same receipt; the same key with another
body is refused; the same message id under a new key is answered ``duplicate`` with the first
receipt (never kept twice); unsigned, forged and expired requests get 401; a message that does
not meet the standard is refused with 422.
"""

from __future__ import annotations

import uuid
from dataclasses import replace
from typing import Any

import msgspec

from backend.connectors.client import Credentials
from backend.connectors.conformance import (
    Check,
    algorithm_checks,
    published_jwks,
    raw_requests,
    refuses_forged_and_expired,
    refuses_unsigned,
    signature_algorithm_of,
)
from backend.connectors.push import PushConnector, PushSpec, all_push_specs


def sample_message(spec: PushSpec, message_id: str) -> msgspec.Struct:
    """A valid message for ``spec`` (test data: a fictitious rating, a number of the test range)."""
    if spec.code == "haochaping":
        from backend.connectors.haochaping import RatingData, RatingReport

        return RatingReport(
            message_id=message_id,
            type="rating.created",
            rating_id=f"conf-{message_id[:12]}",
            sequence=1,
            occurred_at="2026-12-01T10:00:00+08:00",
            source="conformance-kit",
            rating=RatingData(
                rating_id=f"conf-{message_id[:12]}",
                kind="visit",
                level=5,
                level_name="非常满意",
                rated_at="2026-12-01T10:00:00+08:00",
                channel="kiosk",
                hall="CONF-HALL",
            ),
        )
    from backend.connectors.sms import SmsMessage

    return SmsMessage(
        message_id=message_id,
        phone="19900000000",
        template="conformance",
        lang="zh-CN",
        content="【测试】对接标准符合性测试短信。",
        signature="【测试】",
    )


class PushConformanceRun:
    """Runs the push contract checks for one system at one base URL."""

    def __init__(
        self, system: str, base_url: str, credentials: Credentials, *, other_key: dict[str, Any] | None = None
    ) -> None:
        self.spec = replace(
            all_push_specs()[system], signature_algorithm=signature_algorithm_of(credentials.signing_key)
        )
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.other_key = other_key
        self.conn = PushConnector(self.spec, self.base_url, credentials)
        self.message_id = f"conf-{uuid.uuid4().hex}"
        self.message = sample_message(self.spec, self.message_id)
        self.state: dict[str, Any] = {}
        self.send = raw_requests(self.base_url)

    async def aclose(self) -> None:
        await self.conn.aclose()

    def _other(self, suffix: str) -> msgspec.Struct:
        return msgspec.structs.replace(self.message, message_id=f"{self.message_id}-{suffix}")

    async def check_jwks(self) -> str:
        return await published_jwks(self.base_url, self.conn.alg)

    async def check_signature_algorithm(self) -> str:
        body = msgspec.json.encode(self._other("alg"))
        return await algorithm_checks(
            self.send, self.spec.message_path, body, self.credentials, self.conn.alg, self.other_key
        )

    async def check_accepts(self) -> str:
        ack = await self.conn.push(self.message)
        assert ack.status == "accepted" and ack.receipt, f"answered {ack}"
        assert not ack.duplicate, "a first message must not be a duplicate"
        self.state["receipt"] = ack.receipt
        return f"receipt {ack.receipt} (response signature verified)"

    async def check_replay(self) -> str:
        ack = await self.conn.push(self.message)
        assert ack.receipt == self.state.get("receipt"), f"replay gave {ack.receipt}"
        assert not ack.duplicate, "an idempotent replay is not a duplicate"
        return "same Idempotency-Key and body → same receipt"

    async def check_key_reuse(self) -> str:
        body = msgspec.json.encode(self._other("conflict"))
        status, _, _ = await self.conn._call("POST", self.spec.message_path, body, idempotency_key=self.message_id)
        assert status in (409, 422), f"the same key with another body was answered HTTP {status}"
        return f"HTTP {status}"

    async def check_duplicate_under_new_key(self) -> str:
        body = msgspec.json.encode(self.message)
        status, content, _ = await self.conn._call(
            "POST", self.spec.message_path, body, idempotency_key=f"{self.message_id}-again"
        )
        from backend.connectors.push import PushAck

        ack = msgspec.json.decode(content, type=PushAck)
        assert status in (200, 202) and ack.duplicate and ack.receipt == self.state.get("receipt"), (
            f"HTTP {status} {ack}"
        )
        return "duplicate: true, first receipt"

    async def check_unsigned(self) -> str:
        body = msgspec.json.encode(self._other("unsigned"))
        return await refuses_unsigned(self.send, "POST", self.spec.message_path, body, self.credentials.client_id)

    async def check_forged_and_expired(self) -> str:
        body = msgspec.json.encode(self._other("forged"))
        return await refuses_forged_and_expired(self.send, "POST", self.spec.message_path, body, self.credentials)

    async def check_invalid_message(self) -> str:
        body = msgspec.json.encode({"message_id": f"{self.message_id}-invalid"})
        status, _, _ = await self.conn._call("POST", self.spec.message_path, body, idempotency_key=uuid.uuid4().hex)
        assert status == 422, f"an incomplete message was answered HTTP {status}"
        return "HTTP 422"

    def checks(self) -> list[Check]:
        """The checks in order."""
        return [
            ("jwks published", self.check_jwks),
            ("signs and accepts only the specified algorithm", self.check_signature_algorithm),
            ("accepts a valid signed message", self.check_accepts),
            ("idempotent replay returns the same receipt", self.check_replay),
            ("idempotency key reused with another body is refused", self.check_key_reuse),
            ("same message under a new key is a duplicate, not kept twice", self.check_duplicate_under_new_key),
            ("rejects unsigned requests", self.check_unsigned),
            ("rejects forged and expired signatures", self.check_forged_and_expired),
            ("refuses a message that does not meet the standard", self.check_invalid_message),
        ]
