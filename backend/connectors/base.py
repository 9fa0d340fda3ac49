"""The connector protocol: wire shapes, errors and the interface every agency connector meets.

A connector sends one case item (事项) to one agency business system and reads back what the
system did with it. Three rules shape everything here:

- every outbound call carries an ``Idempotency-Key``: resending is always safe;
- a business rejection (不予受理/不予办理) is a *result* (``Ack`` or ``CallbackResult``),
  never an exception; only transport trouble raises ``TransientError`` (retry it);
- callbacks are trusted only after their JWS is verified against the system's JWKS, is
  fresh (``iat``/``exp``) and has not been seen before (``jti``).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal, Protocol, runtime_checkable

import msgspec

AckStatus = Literal["accepted", "rejected"]
Outcome = Literal["accepted", "in_progress", "completed", "rejected", "correction_requested"]
ItemState = Literal["received", "accepted", "in_progress", "completed", "rejected", "correction_requested"]

#: Outcomes after which the agency will send nothing more for the item.
FINAL_OUTCOMES: frozenset[str] = frozenset({"completed", "rejected"})

# Event type names used in callbacks and logs (Open Zaak style named constants).
EVENT_ITEM_ACCEPTED = "item.accepted"
EVENT_ITEM_IN_PROGRESS = "item.in_progress"
EVENT_ITEM_COMPLETED = "item.completed"
EVENT_ITEM_REJECTED = "item.rejected"
EVENT_ITEM_CORRECTION_REQUESTED = "item.correction_requested"
EVENT_BY_OUTCOME: dict[str, str] = {
    "accepted": EVENT_ITEM_ACCEPTED,
    "in_progress": EVENT_ITEM_IN_PROGRESS,
    "completed": EVENT_ITEM_COMPLETED,
    "rejected": EVENT_ITEM_REJECTED,
    "correction_requested": EVENT_ITEM_CORRECTION_REQUESTED,
}


class Reason(msgspec.Struct, omit_defaults=True, frozen=True):
    """One business reason (e.g. ``tax_arrears``) with a zh-CN / English message."""

    code: str
    message: str
    field: str | None = None


class Correction(msgspec.Struct, omit_defaults=True, frozen=True):
    """Something the applicant must fix (补正): a form field or a material."""

    kind: Literal["field", "material"]
    name: str
    message: str


class ResultDocument(msgspec.Struct, omit_defaults=True, frozen=True):
    """A result document (清税证明, 准予注销登记通知书 ...): inline base64 or a URL, with its hash."""

    name: str
    media_type: str
    sha256: str
    content_base64: str | None = None
    url: str | None = None


class Submission(msgspec.Struct, omit_defaults=True, frozen=True):
    """One item of a case sent to one business system.

    ``item_ref`` is the platform's stable id of the case item: the agency uses it to spot
    a second send of the same item. ``idempotency_key`` travels as the ``Idempotency-Key``
    header, not in the body.
    """

    case_number: str
    item_code: str
    item_ref: str
    uscc: str
    region: str
    payload: dict[str, Any]
    callback_url: str
    idempotency_key: str = ""


class CallbackResult(msgspec.Struct, omit_defaults=True, frozen=True):
    """One signed event the agency pushes back about an item.

    ``event_id`` is unique per event (a re-delivery repeats it: act idempotently on it);
    ``sequence`` grows per item so a late or out-of-order event never rolls state back.
    """

    event_id: str
    reference: str
    item_ref: str
    item_code: str
    system: str
    outcome: Outcome
    sequence: int
    occurred_at: str
    message: str = ""
    reasons: list[Reason] = []
    corrections: list[Correction] = []
    documents: list[ResultDocument] = []


class Ack(msgspec.Struct, omit_defaults=True, frozen=True):
    """The synchronous answer to a submission: accepted (with the agency's reference) or rejected.

    ``event`` (lean form, optional): the agency reports 受理 (``outcome: accepted``) in this
    answer instead of a separate ``accepted`` callback; the platform applies it like that
    callback, once per ``event_id`` (an idempotent replay repeats the same event).
    """

    status: AckStatus
    reference: str | None = None
    reasons: list[Reason] = []
    duplicate: bool = False
    event: CallbackResult | None = None


#: Most events one batch callback may carry.
MAX_BATCH_EVENTS = 100


class CallbackBatch(msgspec.Struct, frozen=True):
    """Lean form (optional): several events, for items of any case routed to one system, in one
    signed callback. Each event keeps its own ``event_id`` and is applied (and answered) on its own."""

    events: Annotated[list[CallbackResult], msgspec.Meta(min_length=1, max_length=MAX_BATCH_EVENTS)]


EventStatus = Literal["applied", "ignored", "duplicate", "refused", "retry"]


class EventAnswer(msgspec.Struct, frozen=True):
    """The platform's answer for one event of a batch: ``retry`` means send that event again later
    (a passing failure on our side); every other status means it is settled (``refused``: never
    resend, ``code`` says why, e.g. ``unknown_item``, ``item_not_routed_to_system``)."""

    event_id: str
    status: EventStatus
    code: str | None = None


class BatchAnswer(msgspec.Struct, frozen=True):
    """The answer to a batch callback (HTTP 200): one ``EventAnswer`` per event, in order."""

    results: list[EventAnswer]


class ItemStatus(msgspec.Struct, omit_defaults=True, frozen=True):
    """What the agency says about one item when asked (status query)."""

    reference: str
    item_ref: str
    item_code: str
    status: ItemState
    message: str = ""
    reasons: list[Reason] = []
    corrections: list[Correction] = []
    documents: list[ResultDocument] = []
    updated_at: str = ""


class PrecheckResult(msgspec.Struct, omit_defaults=True, frozen=True):
    """Blockers an agency reports before submission (注销预检); empty means ready."""

    uscc: str
    item_code: str
    blockers: list[Reason] = []


class ConnectorError(Exception):
    """Base of every connector exception."""

    def __init__(self, message: str, *, code: str = "connector_error", status: int | None = None) -> None:
        super().__init__(message)
        self.code = code
        self.status = status


class TransientError(ConnectorError):
    """Network error, timeout, 5xx, 429 or an unverifiable answer: retry with the same key."""

    def __init__(
        self, message: str, *, code: str = "transient", status: int | None = None, retry_after: float | None = None
    ) -> None:
        super().__init__(message, code=code, status=status)
        self.retry_after = retry_after


class PermanentError(ConnectorError):
    """The call can never succeed as is (bad credentials, protocol violation): do not retry."""


class CallbackRejected(ConnectorError):
    """A callback that must not be trusted: bad or missing signature, expired, replayed, malformed."""


class ReplayGuard(Protocol):
    """Remembers callback ``jti`` values: returns True if ``jti`` was already seen, else records it."""

    def __call__(self, jti: str, expires_at: float) -> bool: ...


class MemoryReplayGuard:
    """An in-process ``ReplayGuard`` (tests, embedded mode); production backs it with Redis or the DB."""

    def __init__(self) -> None:
        self._seen: dict[str, float] = {}

    def __call__(self, jti: str, expires_at: float) -> bool:
        import time

        now = time.time()
        if len(self._seen) > 10_000:
            self._seen = {k: v for k, v in self._seen.items() if v > now}
        if jti in self._seen and self._seen[jti] > now:
            return True
        self._seen[jti] = expires_at
        return False


@runtime_checkable
class Connector(Protocol):
    """What the dispatcher calls for every business system."""

    system: str

    async def submit(self, sub: Submission) -> Ack:
        """Send one item; raises ``TransientError`` on transport trouble, never for a rejection."""
        ...

    async def resubmit(self, reference: str, sub: Submission) -> Ack:
        """Send corrected data (补正) for an item the agency asked to correct."""
        ...

    async def query(self, *, reference: str | None = None, item_ref: str | None = None) -> ItemStatus:
        """Ask the agency for the current status of an item."""
        ...

    async def precheck(self, uscc: str, item_code: str, region: str = "") -> PrecheckResult:
        """Ask the agency for blockers before the case is submitted (注销预检)."""
        ...

    async def verify_callback(
        self, headers: Mapping[str, str], body: bytes, seen: ReplayGuard | None = None
    ) -> CallbackResult:
        """Verify a callback's signature, freshness and novelty, then parse it; raises ``CallbackRejected``."""
        ...

    async def verify_callbacks(
        self, headers: Mapping[str, str], body: bytes, seen: ReplayGuard | None = None
    ) -> tuple[list[CallbackResult], bool]:
        """As ``verify_callback`` for a single event or a batch (lean form): (the events, whether a batch)."""
        ...

    async def aclose(self) -> None:
        """Release the HTTP client."""
        ...
