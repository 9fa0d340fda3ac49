"""Simulated push systems (好差评, SMS) for the test environment.

A push engine is an agency ``SimulatorEngine`` (same keys, client registry, signature and
idempotency checks, fault switches, counters and sandbox controls) with one endpoint: it
keeps every message it accepts, in arrival order, and counts what a test asserts on:

- ``submissions``: messages kept; ``duplicates`` (+ ``duplicate_item_refs``): a message id
  seen again under another idempotency key (so "nothing sent twice" is ``duplicates == 0``);
- ``idempotent_replays``: the same key and body again (a retry after a lost answer: harmless);
- ``out_of_order``: a message of a chain (``rating_id`` + ``sequence``) after a later one.

Faults: ``down``/``outages`` (503), ``error_rate``/``fail_next`` (5xx), ``latency_ms`` (slow),
``reject_messages`` (422 with a coded reason).
"""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get, post
from litestar.datastructures import State

from backend.connectors.base import Reason
from backend.connectors.client import JWKS_PATH
from backend.connectors.push import PushAck, PushSpec, all_push_specs
from backend.connectors.spec import with_signature_algorithm
from backend.lib.problems import EXCEPTION_HANDLERS, FieldError
from backend.sandbox.simulator import SimulatorEngine, admin_handlers


def mask_phone(phone: str) -> str:
    """``199****0001``: what the sandbox shows of a number."""
    return phone[:3] + "*" * max(0, len(phone) - 7) + phone[-4:] if len(phone) >= 7 else "*" * len(phone)


class PushSimulatorEngine(SimulatorEngine):
    """One simulated push system; ``received`` holds what it accepted, in order."""

    def __init__(self, spec: PushSpec, **options: Any) -> None:
        options.pop("processing_seconds", None)  # nothing to process: the answer is synchronous
        # The base class reads only ``code`` and ``name_zh``, which PushSpec has too.
        super().__init__(spec, **options)  # type: ignore[arg-type]
        self.push_spec = spec
        self.received: list[dict[str, Any]] = []
        self._by_message: dict[str, str] = {}
        self._last_sequence: dict[str, int] = {}

    def reset(self) -> None:
        """Forget messages, counters and faults (clients and keys stay)."""
        super().reset()
        self.received.clear()
        self._by_message.clear()
        self._last_sequence.clear()

    def messages(self, *, masked: bool = True) -> list[dict[str, Any]]:
        """What the system kept, oldest first (phone numbers masked unless asked otherwise)."""
        if not masked:
            return list(self.received)
        return [
            {**m, "message": {**m["message"], "phone": mask_phone(m["message"]["phone"])}}
            if "phone" in m["message"]
            else m
            for m in self.received
        ]

    async def handle_push(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """POST one message: verify, deduplicate, keep, acknowledge."""
        admitted = await self._admit(request)
        if isinstance(admitted, Response):
            return admitted
        body, client_id, jti, key = admitted
        try:
            message: Any = msgspec.json.decode(body, type=self.push_spec.message_type)
        except (msgspec.ValidationError, msgspec.DecodeError) as exc:
            return self.problem(
                422,
                "invalid_message",
                f"消息不符合对接标准 / Message does not meet the interface standard: {exc}",
                irt=jti,
                errors=[FieldError(field="body", code="invalid_value", message=str(exc))],
            )
        if self.faults.reject_messages:
            self.stats.faults_injected += 1
            self.stats.rejected += 1
            return self.problem(
                422,
                "message_refused",
                "接收方拒收该消息 / The receiving system refused the message.",
                irt=jti,
                reasons=[Reason(code="message_refused", message="接收方拒收 / Refused by the receiving system")],
            )
        message_id = message.message_id
        existing = self._by_message.get(message_id)
        if existing is not None:
            self.stats.duplicates += 1
            if message_id not in self.stats.duplicate_item_refs:
                self.stats.duplicate_item_refs.append(message_id)
            status, answer = 200, msgspec.json.encode(PushAck(status="accepted", receipt=existing, duplicate=True))
        else:
            receipt = f"{self.push_spec.reference_prefix}-{datetime.now(UTC):%Y%m%d}-{next(self._seq):06d}"
            self._by_message[message_id] = receipt
            chain, sequence = getattr(message, "rating_id", None), getattr(message, "sequence", None)
            if chain is not None and sequence is not None:
                if sequence < self._last_sequence.get(chain, 0):
                    self.stats.out_of_order += 1
                self._last_sequence[chain] = max(sequence, self._last_sequence.get(chain, 0))
            self.received.append(
                {
                    "receipt": receipt,
                    "client_id": client_id,
                    "received_at": datetime.now(UTC).isoformat(timespec="milliseconds"),
                    "message": msgspec.to_builtins(message),
                }
            )
            self.stats.submissions += 1
            status, answer = 202, msgspec.json.encode(PushAck(status="accepted", receipt=receipt))
        self._remember(client_id, key, body, status, answer)
        return self.answer(status, answer, irt=jti)


def create_push_simulator_app(code: str, **engine_options: Any) -> Litestar:
    """A Litestar app simulating the push system ``code``; ``app.state.engine`` is its engine."""
    spec = with_signature_algorithm(all_push_specs()[code], engine_options.pop("signature_algorithms", ""))
    eng = PushSimulatorEngine(spec, **engine_options)

    @get(JWKS_PATH, sync_to_thread=False)
    def jwks() -> dict[str, Any]:
        return eng.jwks

    @post(spec.message_path, status_code=202)
    async def receive(request: Request[Any, Any, Any]) -> Response[bytes]:
        return await eng.handle_push(request)

    @get("/admin/messages", sync_to_thread=False)
    def messages() -> list[dict[str, Any]]:
        return eng.messages()

    async def shutdown() -> None:
        await eng.aclose()

    return Litestar(
        route_handlers=[jwks, receive, messages, *admin_handlers(eng)],
        exception_handlers=EXCEPTION_HANDLERS,
        logging_config=None,  # the host process's configure_logging owns the root logger (masked)
        on_shutdown=[shutdown],
        state=State({"engine": eng}),
        openapi_config=None,
    )


def build_push_simulators(**engine_options: Any) -> dict[str, Litestar]:
    """One simulator app per push system (好差评, SMS)."""
    keys = engine_options.pop("signing_keys", None) or {}
    return {
        code: create_push_simulator_app(code, signing_key=keys.get(code), **engine_options) for code in all_push_specs()
    }
