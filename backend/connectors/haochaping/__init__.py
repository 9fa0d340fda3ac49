"""福建省政务服务“好差评”系统: every rating, its follow-up and appeals, reported as they happen.

国办发〔2019〕51号 has every rating reach the provincial 好差评 system (and on to the national
one) in real time; Fujian's 福建省政务服务“好差评”管理办法 adds the follow-up of bad ratings
(回访, 整改, 答复) and appeals (申诉, 复核). One ``RatingReport`` per event, each with its own
``message_id`` (the idempotency key) and a ``sequence`` per rating chain (a rating and, after
it, its follow-up, appeal and re-rating): the platform delivers a chain in order.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from backend.connectors.push import PushSpec

ReportType = Literal[
    "rating.created",
    "follow_up.opened",
    "follow_up.visited",
    "follow_up.rectified",
    "follow_up.replied",
    "follow_up.overdue",
    "follow_up.closed",
    "follow_up.voided",
    "appeal.filed",
    "appeal.decided",
]

# Event type names (named constants, as the agency events).
RATING_CREATED = "rating.created"
FOLLOW_UP_OPENED = "follow_up.opened"
FOLLOW_UP_VISITED = "follow_up.visited"
FOLLOW_UP_RECTIFIED = "follow_up.rectified"
FOLLOW_UP_REPLIED = "follow_up.replied"
FOLLOW_UP_OVERDUE = "follow_up.overdue"
FOLLOW_UP_CLOSED = "follow_up.closed"
FOLLOW_UP_VOIDED = "follow_up.voided"
APPEAL_FILED = "appeal.filed"
APPEAL_DECIDED = "appeal.decided"


class RatingData(msgspec.Struct, omit_defaults=True, frozen=True):
    """One rating (一事一评 per matter, 一次一评 per visit)."""

    rating_id: str
    kind: Literal["matter", "visit"]
    level: int
    level_name: str
    rated_at: str
    channel: str
    indicators: list[str] = []
    comment: str = ""
    item_code: str = ""
    case_number: str = ""
    agency_system: str = ""
    hall: str = ""
    region: str = ""
    supersedes: str = ""


class FollowUpData(msgspec.Struct, omit_defaults=True, frozen=True):
    """A step of a bad rating's follow-up (整改)."""

    follow_up_id: str
    status: str
    note: str = ""
    visit_due_on: str = ""
    rectify_due_on: str = ""
    step: str = ""
    re_rating_id: str = ""


class AppealData(msgspec.Struct, omit_defaults=True, frozen=True):
    """An appeal (申诉) and its re-review (复核)."""

    appeal_id: str
    ground: Literal["malicious", "mistaken"]
    status: Literal["pending", "upheld", "dismissed"]
    reason: str = ""
    decision: str = ""


class RatingReport(msgspec.Struct, omit_defaults=True, frozen=True):
    """One event of a rating chain, as pushed to the provincial 好差评 system."""

    message_id: str
    type: ReportType
    rating_id: str
    sequence: int
    occurred_at: str
    source: str
    rating: RatingData | None = None
    follow_up: FollowUpData | None = None
    appeal: AppealData | None = None


SPEC = PushSpec(
    code="haochaping",
    package="haochaping",
    name_zh="福建省政务服务“好差评”系统",
    name_en="Fujian government service rating system (好差评)",
    owner_zh="福建省行政审批制度改革工作小组办公室（省数字福建建设领导小组办公室）",
    message_path="/api/v1/rating-reports",
    message_type=RatingReport,
    reference_prefix="HCP",
    notes_zh=(
        "依据国办发〔2019〕51号及《福建省政务服务“好差评”管理办法》，平台对每一条评价及其差评回访、整改、答复、"
        "申诉复核实时上报。同一评价链（评价及其后续）按 sequence 依次送达；"
        "message_id 即幂等键，重复送达不产生第二条记录。"
    ),
)
