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
    owner_zh="福建省大数据有限公司（省政务短信平台运营）",
    message_path="/api/v1/messages",
    message_type=SmsMessage,
    reference_prefix="SMS",
    notes_zh=(
        "平台在申请人需要办理某事时发送短信；message_id 即幂等键，同一短信不会发送两次。手机号仅用于发送，日志中掩码。"
    ),
)
