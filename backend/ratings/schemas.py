"""Wire shapes of 好差评."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec

Level = Annotated[int, msgspec.Meta(ge=1, le=5, description="5 非常满意, 4 满意, 3 基本满意, 2 不满意, 1 非常不满意")]
Indicators = Annotated[list[Annotated[str, msgspec.Meta(max_length=40)]], msgspec.Meta(max_length=15)]
Comment = Annotated[str, msgspec.Meta(max_length=1000)]
Note = Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class MatterRatingCreate(msgspec.Struct, forbid_unknown_fields=True):
    """一事一评: one completed item of one of my cases."""

    case_id: str
    item_ref: str
    level: Level
    indicators: Indicators = []
    comment: Comment = ""


class VisitRatingCreate(msgspec.Struct, forbid_unknown_fields=True):
    """一次一评: one hall visit or kiosk session, proven by the one-time token that visit issued
    (the hall, channel and region come from the visit, not from the caller)."""

    visit_token: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    level: Level = 5
    indicators: Indicators = []
    comment: Comment = ""


class VisitTokenView(msgspec.Struct, kw_only=True):
    """A visit's one-time rating token (shown once: only its hash is kept) and when it expires (epoch ms)."""

    visit_token: str
    expires_at: int
    channel: Literal["window", "kiosk"]


class ReRating(msgspec.Struct, forbid_unknown_fields=True):
    level: Level
    indicators: Indicators = []
    comment: Comment = ""


class StepNote(msgspec.Struct, forbid_unknown_fields=True):
    note: Note


class AppealCreate(msgspec.Struct, forbid_unknown_fields=True):
    ground: Literal["malicious", "mistaken"]
    reason: Note


class AppealDecision(msgspec.Struct, forbid_unknown_fields=True):
    uphold: bool
    decision: Note


class RatingView(msgspec.Struct, kw_only=True):
    id: str
    kind: str
    level: int
    level_label: dict[str, str]
    indicators: list[str]
    comment: str
    status: str
    case_id: str
    item_code: str
    system: str
    hall: str
    channel: str
    created_at: int
    supersedes: str
    follow_up_id: str | None = None


class FollowUpEventView(msgspec.Struct, kw_only=True):
    type: str
    actor: str
    message: str
    at: int


class FollowUpView(msgspec.Struct, kw_only=True):
    id: str
    rating: RatingView
    status: str
    opened_on: str
    visit_due_on: str
    rectify_due_on: str
    visited_at: int | None
    visit_note: str
    rectified_at: int | None
    rectification: str
    replied_at: int | None
    reply: str
    visit_overdue: bool
    rectify_overdue: bool
    re_rating_id: str
    events: list[FollowUpEventView]


class AppealView(msgspec.Struct, kw_only=True):
    id: str
    rating_id: str
    ground: str
    reason: str
    filed_by: str
    status: str
    reviewer: str
    decision: str
    filed_at: int
    decided_at: int | None
