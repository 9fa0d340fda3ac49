"""Wire shapes of 测试问题反馈."""

from __future__ import annotations

from typing import Annotated

import msgspec
from litestar.datastructures import UploadFile

Short = Annotated[str, msgspec.Meta(max_length=500)]
Long = Annotated[str, msgspec.Meta(max_length=4000)]


class ReportFiling(msgspec.Struct):
    """A new problem report (multipart: the fields and an optional ``screenshot``)."""

    page: str = ""
    step: str = ""
    expected: str = ""
    actual: str = ""
    screenshot: UploadFile | None = None


class Triage(msgspec.Struct, forbid_unknown_fields=True):
    """The platform team's triage: how bad, and which team member fixes it."""

    severity: str
    assignee: Annotated[str, msgspec.Meta(max_length=80)]
    note: Long = ""


class StatusMove(msgspec.Struct, forbid_unknown_fields=True):
    """Move a report to ``status`` (in_progress, fixed), with a note."""

    status: str
    note: Long = ""


class ReporterNote(msgspec.Struct, forbid_unknown_fields=True):
    """The reporter's word when confirming or reopening (required to reopen)."""

    note: Long = ""


class EventView(msgspec.Struct):
    action: str
    actor_id: str
    actor_name: str
    from_status: str
    to_status: str
    detail: dict
    at: int


class ReportView(msgspec.Struct):
    id: str
    agency: str
    agency_name: dict[str, str]  # {"zh-CN", "en"}
    level: str
    region: str
    reporter_id: str
    reporter_name: str
    page: str
    step: str
    expected: str
    actual: str
    status: str
    severity: str
    assignee: str
    has_screenshot: bool
    created_at: int
    updated_at: int
    events: list[EventView] = []
