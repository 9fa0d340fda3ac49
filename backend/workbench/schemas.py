"""Wire shapes of the workbench (msgspec Structs)."""

from __future__ import annotations

from typing import Annotated, Any, Literal

import msgspec

Text = dict[str, str]  # {"zh-CN": ..., "en": ...}


class Sla(msgspec.Struct, kw_only=True):
    """承诺时限: working days left against ``due_on`` (negative when overdue)."""

    due_on: str
    promised_days: int
    days_left: int | None
    overdue: bool


class WorkItem(msgspec.Struct, kw_only=True):
    ref: str
    code: str
    name: Text
    system: str
    region: str
    status: str
    status_label: Text
    case_id: str
    case_number: str | None
    enterprise_name: str
    uscc: str
    entity_type: str
    channel: str
    reference: str | None
    queued_at: int | None
    sla: Sla
    manual: bool


class ProjectedField(msgspec.Struct, kw_only=True):
    """One merged-form field as this item's system names it (catalog ``maps``)."""

    key: str
    payload_field: str
    title: Text
    value: Any = None


class MaterialLink(msgspec.Struct, kw_only=True):
    id: int
    code: str
    name: Text
    filename: str
    media_type: str
    size: int
    sha256: str
    href: str


class EarlierResult(msgspec.Struct, kw_only=True):
    ref: str
    code: str
    name: Text
    status: str
    reference: str | None
    closed_at: int | None
    documents: list[dict[str, Any]]


class ActionRecord(msgspec.Struct, kw_only=True):
    action: str
    actor: str
    actor_name: str
    message: str
    at: int


class WorkItemDetail(msgspec.Struct, kw_only=True):
    item: WorkItem
    form: list[ProjectedField]
    materials: list[MaterialLink]
    earlier_results: list[EarlierResult]
    corrections: list[dict[str, Any]]
    reasons: list[dict[str, Any]]
    actions: list[ActionRecord]
    allowed: list[str]


class CorrectionPick(msgspec.Struct, forbid_unknown_fields=True):
    kind: Literal["field", "material"]
    name: Annotated[str, msgspec.Meta(min_length=1, max_length=80)]
    message: Annotated[str, msgspec.Meta(max_length=500)] = ""


class StaffCorrection(msgspec.Struct, forbid_unknown_fields=True):
    """退回补正: which fields and materials, and a message to the applicant."""

    items: list[
        CorrectionPick
    ]  # 1 to 50, checked by the service (a constrained list of structs breaks the OpenAPI document)
    message: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]


class RefusalRequest(msgspec.Struct, forbid_unknown_fields=True):
    """不予办理 with the reason the applicant will read."""

    reason: Annotated[str, msgspec.Meta(min_length=1, max_length=1000)]
    code: Annotated[str, msgspec.Meta(max_length=60)] = "refused_by_staff"


class AcceptRequest(msgspec.Struct, forbid_unknown_fields=True):
    message: Annotated[str, msgspec.Meta(max_length=500)] = ""


class ActionResult(msgspec.Struct, kw_only=True):
    outcome: str  # applied | ignored
    item: WorkItem


class ModeView(msgspec.Struct, kw_only=True):
    system: str
    name: Text
    mode: Literal["api", "manual"]
    changed_by: str = ""
    updated_at: int = 0
    note: str = ""


class ModeChange(msgspec.Struct, forbid_unknown_fields=True):
    mode: Literal["api", "manual"]
    note: Annotated[str, msgspec.Meta(max_length=500)] = ""


class AssistedStart(msgspec.Struct, forbid_unknown_fields=True):
    """帮办代办: the visitor (a person on the enterprise's record) and the enterprise."""

    uscc: Annotated[str, msgspec.Meta(min_length=18, max_length=18)]
    visitor_id: Annotated[str, msgspec.Meta(min_length=1, max_length=64)]
    visitor_name: Annotated[str, msgspec.Meta(max_length=100)] = ""


class AssistedView(msgspec.Struct, kw_only=True):
    id: str
    status: str
    uscc: str
    visitor_id: str
    visitor_name: str
    hall: str
    face_url: str = ""
    case_id: str = ""
    handoff_url: str = ""
    rating_token: str = ""
    """一次一评: the visitor's one-time token to rate this window service, in the handoff's answer only."""
    rating_token_expires_at: int = 0
