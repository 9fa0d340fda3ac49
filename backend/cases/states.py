"""Case and item states, their official labels, the allowed transitions and event names."""

from __future__ import annotations

from typing import Final

# Item states (事项状态). Labels follow the terms applicants and staff already know.
WAITING: Final = "waiting"  # 等待前序事项办结
QUEUED: Final = "queued"  # 待推送
SENT: Final = "sent"  # 已推送
ACCEPTED: Final = "accepted"  # 已受理
IN_PROGRESS: Final = "in_progress"  # 办理中
COMPLETED: Final = "completed"  # 已办结
REJECTED: Final = "rejected"  # 不予受理 / 不予办理
CORRECTION: Final = "correction_requested"  # 退回补正
WITHDRAWN: Final = "withdrawn"  # 已撤回
DISPATCH_FAILED: Final = "dispatch_failed"  # 推送失败（待人工处理）
CANCELLED: Final = "cancelled"  # 因前序事项未办结而终止

ITEM_LABELS: Final = {
    WAITING: ("等待前序事项办结", "Waiting for earlier items"),
    QUEUED: ("待推送", "Queued"),
    SENT: ("已推送", "Sent"),
    ACCEPTED: ("已受理", "Accepted"),
    IN_PROGRESS: ("办理中", "In progress"),
    COMPLETED: ("已办结", "Completed"),
    REJECTED: ("不予受理/不予办理", "Refused"),
    CORRECTION: ("退回补正", "Correction requested"),
    WITHDRAWN: ("已撤回", "Withdrawn"),
    DISPATCH_FAILED: ("推送失败，工作人员处理中", "Delivery failed; staff are handling it"),
    CANCELLED: ("已终止（前序事项未办结）", "Stopped (an earlier item was refused)"),
}

ITEM_TERMINAL: Final = frozenset({COMPLETED, REJECTED, WITHDRAWN, CANCELLED})

#: Which state may follow which. An agency outcome that is not listed (a late or
#: out-of-order callback) is recorded in the timeline but does not move the item.
ITEM_TRANSITIONS: Final = {
    WAITING: {QUEUED, WITHDRAWN, CANCELLED},
    QUEUED: {SENT, ACCEPTED, REJECTED, WITHDRAWN, DISPATCH_FAILED, COMPLETED},
    SENT: {ACCEPTED, IN_PROGRESS, COMPLETED, REJECTED, CORRECTION, WITHDRAWN},
    ACCEPTED: {IN_PROGRESS, COMPLETED, REJECTED, CORRECTION},
    IN_PROGRESS: {COMPLETED, REJECTED, CORRECTION},
    CORRECTION: {QUEUED, IN_PROGRESS, ACCEPTED, COMPLETED, REJECTED},
    DISPATCH_FAILED: {QUEUED},
}

# Case states (申请状态), derived from the items once submitted.
DRAFT: Final = "draft"
SUBMITTED: Final = "submitted"  # items on their way
ACTION_REQUIRED: Final = "action_required"  # an item waits for the applicant (补正)
CASE_COMPLETED: Final = "completed"
CASE_REFUSED: Final = "refused"  # closed; at least one item refused
CASE_WITHDRAWN: Final = "withdrawn"
EXPIRED: Final = "expired"

CASE_LABELS: Final = {
    DRAFT: ("草稿", "Draft"),
    SUBMITTED: ("办理中", "In progress"),
    ACTION_REQUIRED: ("待补正", "Action needed"),
    CASE_COMPLETED: ("已办结", "Completed"),
    CASE_REFUSED: ("已办结（部分事项不予办理）", "Closed with refusals"),
    CASE_WITHDRAWN: ("已撤回", "Withdrawn"),
    EXPIRED: ("草稿已过期", "Draft expired"),
}

# Timeline event types: named constants, never strings scattered in code.
CASE_CREATED: Final = "case.created"
CASE_UPDATED: Final = "case.updated"
CASE_SUBMITTED: Final = "case.submitted"
CASE_WITHDRAWN_EVENT: Final = "case.withdrawn"
CASE_CLOSED: Final = "case.closed"
CASE_EXPIRY_WARNED: Final = "case.expiry_warned"
CASE_EXPIRED: Final = "case.expired"
MATERIAL_ADDED: Final = "material.added"
MATERIAL_REMOVED: Final = "material.removed"  # from a draft, by the applicant (a wrong file)
ITEM_QUEUED: Final = "item.queued"
ITEM_SENT: Final = "item.sent"
ITEM_OUTCOME: Final = "item.{outcome}"  # item.accepted, item.completed ... (from the agency)
ITEM_IGNORED: Final = "item.outcome_ignored"
ITEM_CORRECTED: Final = "item.corrected"
ITEM_DISPATCH_FAILED: Final = "item.dispatch_failed"
ITEM_REDRIVEN: Final = "item.redriven"
ITEM_CANCELLED: Final = "item.cancelled"
ITEM_WITHDRAWN: Final = "item.withdrawn"
SIGNING_STARTED: Final = "signing.started"
NOTICE_STARTED: Final = "notice.started"
NOTICE_ENDED: Final = "notice.ended"
NOTICE_OBJECTION: Final = "notice.objection"
ITEM_DUE_CHANGED: Final = "item.due_changed"  # a holiday arrangement import moved a promised date


ITEM_OUTCOMES: Final = (ACCEPTED, IN_PROGRESS, COMPLETED, REJECTED, CORRECTION)  # ITEM_OUTCOME's outcomes

#: Every event type a case's timeline (and its live updates) may carry.
EVENT_TYPES: Final = (
    CASE_CREATED,
    CASE_UPDATED,
    CASE_SUBMITTED,
    CASE_WITHDRAWN_EVENT,
    CASE_CLOSED,
    CASE_EXPIRY_WARNED,
    CASE_EXPIRED,
    MATERIAL_ADDED,
    MATERIAL_REMOVED,
    ITEM_QUEUED,
    ITEM_SENT,
    *(ITEM_OUTCOME.format(outcome=o) for o in ITEM_OUTCOMES),
    ITEM_IGNORED,
    ITEM_CORRECTED,
    ITEM_DISPATCH_FAILED,
    ITEM_REDRIVEN,
    ITEM_CANCELLED,
    ITEM_WITHDRAWN,
    SIGNING_STARTED,
    NOTICE_STARTED,
    NOTICE_ENDED,
    NOTICE_OBJECTION,
    ITEM_DUE_CHANGED,
)

#: What the applicant's timeline says of an event ("{item}": the matter's name); types without a
#: label are not shown to applicants.
EVENT_LABELS: Final = {
    CASE_SUBMITTED: ("提交申请", "Application submitted"),
    CASE_WITHDRAWN_EVENT: ("撤回申请", "Application withdrawn"),
    CASE_CLOSED: ("申请办结", "Application closed"),
    ITEM_SENT: ("{item}：已推送至办理部门", "{item}: sent to the agency"),
    "item.accepted": ("{item}：部门已受理", "{item}: accepted by the agency"),
    "item.in_progress": ("{item}：部门办理中", "{item}: in progress at the agency"),
    "item.completed": ("{item}：已办结", "{item}: completed"),
    "item.rejected": ("{item}：不予办理", "{item}: refused"),
    "item.correction_requested": ("{item}：部门要求补正", "{item}: the agency asks for corrections"),
    ITEM_CORRECTED: ("{item}：已提交补正", "{item}: corrections sent"),
    ITEM_DISPATCH_FAILED: ("{item}：推送未成功，工作人员正在处理", "{item}: sending failed; staff are dealing with it"),
    ITEM_REDRIVEN: ("{item}：已重新推送", "{item}: sent again"),
    ITEM_CANCELLED: ("{item}：已终止", "{item}: stopped"),
    ITEM_WITHDRAWN: ("{item}：已撤回", "{item}: withdrawn"),
    NOTICE_STARTED: ("公示开始", "Public notice started"),
    NOTICE_ENDED: ("公示结束", "Public notice ended"),
    NOTICE_OBJECTION: ("收到异议", "Objection received"),
}

#: Item states in which no agency has taken the item up yet: the whole case may still be withdrawn (撤回).
WITHDRAWABLE: Final = frozenset({WAITING, QUEUED, SENT, DISPATCH_FAILED})


def may_withdraw(case_status: str, item_statuses: list[str]) -> bool:
    """Whether the applicant may withdraw a submitted case now: no agency has taken up any item."""
    return case_status in (SUBMITTED, ACTION_REQUIRED) and all(s in WITHDRAWABLE for s in item_statuses)


def can_move(current: str, new: str) -> bool:
    """Whether an item in ``current`` may move to ``new``."""
    return new in ITEM_TRANSITIONS.get(current, ())


def case_status(item_statuses: list[str]) -> str:
    """The submitted case's state from its items'."""
    if not item_statuses:
        return SUBMITTED
    if CORRECTION in item_statuses:
        return ACTION_REQUIRED
    if all(s in ITEM_TERMINAL for s in item_statuses):
        if all(s == WITHDRAWN for s in item_statuses):
            return CASE_WITHDRAWN
        return CASE_COMPLETED if all(s == COMPLETED for s in item_statuses) else CASE_REFUSED
    return SUBMITTED
