"""Wire shapes of the case API (separate create / update / read shapes)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from msgspec import Meta

from backend.cases.typical import Typical
from backend.catalog.schemas import Blocker
from backend.identity.face import FaceVerificationNeeded

Uscc = Annotated[str, Meta(min_length=1, max_length=40, examples=["91350102MA0102003U"])]


class CaseCreate(msgspec.Struct, forbid_unknown_fields=True):
    """Start a draft for an enterprise."""

    uscc: Uscc
    # "(?!\n)$": msgspec matches with re.search, whose "$" also matches before a final newline;
    # this is the end of the text in Python and in ECMA-262 (the OpenAPI document) alike
    channel: Annotated[str, Meta(pattern=r"^(pwa|kiosk|window)(?!\n)$")] = "pwa"


class CaseUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Save answers and form data at any moment; ``version`` guards against lost updates."""

    answers: dict[str, Any] | None = None
    form_data: dict[str, Any] | None = None
    version: Annotated[int, Meta(ge=1)] | None = None


class CorrectionSubmit(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Corrected form fields for one item (补正); materials are uploaded separately first."""

    form_data: dict[str, Any] = {}
    message: Annotated[str, Meta(max_length=500)] = ""


class Label(msgspec.Struct):
    zh: str
    en: str


class ItemView(msgspec.Struct):
    ref: str
    code: str
    name: Label
    system: str
    status: str
    status_label: Label
    depends_on: list[str]
    promised_days: int
    office: str = ""
    due_on: str = ""
    due_estimated: bool = False
    """预计: ``due_on`` counts days of a year with no official holiday arrangement yet (computed)."""
    reference: str | None = None
    account: dict[str, Any] | None = None
    subject: Label | None = None  # the account or seals this item closes, in words
    office_name: Label | None = None
    system_name: Label | None = None
    typical: Typical | None = None  # 通常用时 of this matter in this region, once enough cases completed
    message: str = ""
    reasons: list[dict[str, Any]] = []
    corrections: list[dict[str, Any]] = []
    result: dict[str, Any] = {}
    documents: list[dict[str, Any]] = []
    queued_at: int | None = None
    sent_at: int | None = None
    accepted_at: int | None = None
    closed_at: int | None = None


class MaterialView(msgspec.Struct):
    id: int
    code: str
    filename: str
    media_type: str
    size: int
    sha256: str
    at: int


class EventView(msgspec.Struct):
    seq: int
    type: str
    at: int
    actor: str = ""
    system: str = ""
    item_ref: str | None = None
    message: str = ""
    data: dict[str, Any] = {}
    hash: str = ""


class CaseView(msgspec.Struct):
    id: str
    status: str
    status_label: Label
    uscc: str
    enterprise_name: str
    entity_type: str
    region: str
    route: str
    channel: str
    catalog_version: str
    version: int
    answers: dict[str, Any]
    form_data: dict[str, Any]
    created_at: int
    updated_at: int
    number: str | None = None
    submitted_at: int | None = None
    closed_at: int | None = None
    expires_at: int | None = None
    plan: dict[str, Any] | None = None
    plan_problems: list[dict[str, Any]] = []
    items: list[ItemView] = []
    promised_days: int = 0  # 承诺时限 of a submitted case, in working days (a draft's is its plan's)
    # the promise in words when a timed stage (公示期 / 异议期) comes first, as the plan and guide word it
    promised_text: Label | None = None
    materials: list[MaterialView] = []
    timeline: list[EventView] = []
    timeline_intact: bool = True


class ItemStatus(msgspec.Struct):
    ref: str
    code: str
    status: str
    due_on: str = ""
    due_estimated: bool = False
    closed_at: int | None = None


class CaseStatus(msgspec.Struct):
    """Where a case stands, in a few hundred bytes: what phones poll and kiosks show."""

    id: str
    status: str
    updated_at: int
    number: str | None = None
    items: list[ItemStatus] = []


class CaseSummary(msgspec.Struct):
    id: str
    status: str
    status_label: Label
    uscc: str
    enterprise_name: str
    updated_at: int
    number: str | None = None
    items_done: int = 0
    items_total: int = 0


class Requirement(msgspec.Struct):
    code: str
    message: str
    field: str | None = None
    face_verification: FaceVerificationNeeded | None = None
    """For ``face_verification_required``: the verification to start (its ``purpose`` and ``reference``)."""


class Readiness(msgspec.Struct):
    """注销预检: what blocks submission, from the plan and from every applicable agency system."""

    ready: bool
    blockers: list[Blocker]
    """What stops submission: the plan's (``source: plan``) then each agency's (``source: agency``)."""
    missing: list[Requirement]
    checked_systems: list[str]
    unreachable_systems: list[str]
