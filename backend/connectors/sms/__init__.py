"""福建省政务短信平台: text messages to applicants about things they must act on.

One ``SmsMessage`` per text; its ``message_id`` is the idempotency key (a resend after a
timeout never reaches the phone twice). The text is complete (signature, body in the
person's language, times in China Standard Time); ``template`` names the event so the
platform's operator can audit what was sent without reading texts.
"""

from __future__ import annotations

from typing import Literal

import msgspec

from backend.connectors.push import PushSpec


class SmsMessage(msgspec.Struct, omit_defaults=True, frozen=True):
    """One text message to one mobile number."""

    message_id: str
    phone: str
    template: str
    lang: Literal["zh-CN", "en"]
    content: str
    signature: str


SPEC = PushSpec(
    code="sms",
    package="sms",
    name_zh="福建省政务短信平台",
    name_en="Fujian government SMS platform",
    owner_zh="福建省政务短信平台运营单位",
    message_path="/api/v1/messages",
    message_type=SmsMessage,
    reference_prefix="SMS",
    schema_docs_zh={"SmsMessage": "一条短信", "PushAck": "接收应答", "Reason": "拒收原因"},
    field_docs_zh={
        "SmsMessage": {
            "message_id": "短信唯一编号，即幂等键：同一编号只发送一次",
            "phone": "接收手机号（11 位）",
            "template": "事件：signature_requested 待签名、correction_requested 待补正、case_closed 已办结、"
            "case_refused 不予办理、draft_expiring 草稿即将过期、rating_reply 差评整改答复",
            "lang": "短信语言：zh-CN 或 en",
            "content": "短信全文（含签名），时间为北京时间",
            "signature": "短信签名",
        },
        "PushAck": {
            "status": "accepted 已接收 / rejected 拒收",
            "receipt": "回执号",
            "duplicate": "重复消息（同一 message_id 已接收过）",
            "reasons": "拒收原因",
        },
    },
    notes_zh=(
        "平台在申请人需要办理某事时发送短信；message_id 即幂等键，同一短信不会发送两次。手机号仅用于发送，日志中掩码。"
    ),
)
