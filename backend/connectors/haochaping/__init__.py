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
    owner_zh="省级政务服务“好差评”主管部门",
    message_path="/api/v1/rating-reports",
    message_type=RatingReport,
    reference_prefix="HCP",
    schema_docs_zh={
        "RatingReport": "一条上报：评价、差评整改的一个环节，或一次申诉及其复核",
        "RatingData": "评价（一事一评：每个办结事项；一次一评：每次大厅或自助终端服务）",
        "FollowUpData": "差评整改的一个环节（回访、整改、答复、超期、办结、撤销）",
        "AppealData": "申诉及复核",
        "PushAck": "接收应答",
        "Reason": "拒收原因",
    },
    field_docs_zh={
        "RatingReport": {
            "message_id": "消息唯一编号，即幂等键",
            "type": "事件类型：rating.created 评价；follow_up.* 差评整改各环节；appeal.filed 申诉；appeal.decided 复核",
            "rating_id": "评价链编号（首次评价的编号）；同一评价链的消息按 sequence 依次送达",
            "sequence": "评价链内的序号，从 1 起递增",
            "occurred_at": "发生时间（ISO 8601，北京时间 +08:00）",
            "source": "上报平台代码",
            "rating": "评价内容（type 为 rating.created 时）",
            "follow_up": "整改环节（type 为 follow_up.* 时）",
            "appeal": "申诉（type 为 appeal.* 时）",
        },
        "RatingData": {
            "rating_id": "评价编号",
            "kind": "matter 一事一评 / visit 一次一评",
            "level": "评价等级：5 非常满意，4 满意，3 基本满意，2 不满意，1 非常不满意",
            "level_name": "评价等级名称",
            "rated_at": "评价时间（北京时间）",
            "channel": "评价渠道：pwa 移动端、kiosk 自助终端、window 窗口",
            "indicators": "评价指标代码",
            "comment": "评价意见",
            "item_code": "事项代码（一事一评）",
            "case_number": "申请编号（一事一评）",
            "agency_system": "承办部门业务系统代码（一事一评）",
            "hall": "服务大厅（一次一评）",
            "region": "行政区划代码",
            "supersedes": "再次评价时，被替代的首次评价编号",
        },
        "FollowUpData": {
            "follow_up_id": "整改记录编号",
            "status": "整改状态：open 待回访、visited 已回访、rectified 已整改、replied 已答复、"
            "closed 已办结、void 已撤销",
            "note": "回访记录、整改措施或答复内容",
            "visit_due_on": "回访期限（下一个工作日）",
            "rectify_due_on": "整改及答复期限（15 个工作日）",
            "step": "本环节：opened、visited、rectified、replied、visit_overdue、rectify_overdue、re_rated、voided",
            "re_rating_id": "申请人再次评价的编号",
        },
        "AppealData": {
            "appeal_id": "申诉编号",
            "ground": "申诉理由：malicious 恶意差评 / mistaken 误评",
            "status": "pending 待复核、upheld 申诉成立（评价不计入）、dismissed 维持评价",
            "reason": "申诉说明",
            "decision": "复核意见",
        },
        "PushAck": {
            "status": "accepted 已接收 / rejected 拒收",
            "receipt": "回执号",
            "duplicate": "重复消息（同一 message_id 已接收过）",
            "reasons": "拒收原因",
        },
    },
    notes_zh=(
        "依据国办发〔2019〕51号及《福建省政务服务“好差评”管理办法》，平台对每一条评价及其差评回访、整改、答复、"
        "申诉复核实时上报。同一评价链（评价及其后续）按 sequence 依次送达；"
        "message_id 即幂等键，重复送达不产生第二条记录。"
    ),
)
