"""Text messages (SMS) through the province's government SMS platform.

``queue_sms`` runs inside ``notify`` (so in the transaction of the change that causes it): for
the events a person must hear about outside the app it writes an ``SmsMessage`` and a
``notifications.sms`` job, unless the person opted out (their notification settings in the
PWA). Texts come from ``TEMPLATES``, in the person's language (zh-CN unless they chose
English), with times in China Standard Time and no internal codes.

Rate limit (per person, ``SMS_PER_HOUR`` in any rolling hour, counted when the text is
written): an excess text is **not sent** and kept as ``rate_limited``. Dropping, not
deferring, is deliberate: every text repeats an in-app notification the person still gets,
and a burst of texts (say a case with many items refused at once) is itself the harm the
limit prevents; a deferred text would arrive an hour late about something already stale.

``deliver_sms_job`` looks the number up in the registration record when sending (numbers
are never stored with the text), sends with ``message_id`` as the idempotency key (a retry
never reaches the phone twice), and retries network errors and 5xx with the queue's backoff
(``MAX_ATTEMPTS``, about 45 minutes) before dead-lettering (staff see dead jobs and may
re-drive them); a refusal by the platform is a ``failed`` result. Logs never show a whole
number (``backend.lib.logging.mask``).
"""

from __future__ import annotations

import logging
import uuid
from datetime import UTC, datetime, timedelta, timezone
from typing import Any

import msgspec

from backend.connectors.base import PermanentError, TransientError
from backend.connectors.sms import SmsMessage as SmsWire
from backend.jobs import JobContext, PermanentFailure, RetryLater
from backend.jobs.queue import backoff_seconds
from backend.lib.problems import ProblemError
from backend.notifications.tables import NotificationPreference, SmsMessage

log = logging.getLogger("backend.notifications.sms")

SMS_JOB = "notifications.sms"
SYSTEM = "sms"
MAX_ATTEMPTS = 20
UNCONFIGURED_DELAY = 600.0
HOUR_MS = 3_600_000
CST = timezone(timedelta(hours=8))
LANGUAGES = ("zh-CN", "en")

#: Per event: (zh-CN, en). ``{time}`` is a time in China Standard Time, written for the language.
TEMPLATES: dict[str, tuple[str, str]] = {
    "signature_requested": (
        "有一份企业注销申请等待您签名确认，请登录企业注销“一件事”平台查看并签名。",
        "A business deregistration application is waiting for your signature. "
        "Please sign in to the deregistration service to review and sign it.",
    ),
    "correction_requested": (
        "您的企业注销申请有事项需要补正，请登录企业注销“一件事”平台查看需补正的内容。",
        "Part of your business deregistration application needs correcting. "
        "Please sign in to the deregistration service to see what to correct.",
    ),
    "case_closed": (
        "您的企业注销申请已全部办结，请登录企业注销“一件事”平台查看办理结果。",
        "Your business deregistration application has been completed. "
        "Please sign in to the deregistration service to see the results.",
    ),
    "case_refused": (
        "您的企业注销申请有事项不予办理，申请未能全部办结，请登录企业注销“一件事”平台查看原因。",
        "Part of your business deregistration application was refused, so it could not be completed. "
        "Please sign in to the deregistration service to see why.",
    ),
    "draft_expiring": (
        "您的企业注销申请草稿将于{time}过期，请在此之前提交。",
        "Your draft business deregistration application will expire at {time}. Please submit it before then.",
    ),
    "rating_reply": (
        "您对政务服务的评价已有整改答复，请登录企业注销“一件事”平台查看，您可以再次评价。",
        "The office you rated has replied about what it has improved. "
        "Please sign in to the deregistration service to read it; you may rate the service again.",
    ),
}


def format_time(ms: int, lang: str) -> str:
    """A moment in China Standard Time, as a person reading ``lang`` writes it."""
    t = datetime.fromtimestamp(ms / 1000, UTC).astimezone(CST)
    if lang == "en":
        return f"{t.hour:02d}:{t.minute:02d} on {t.day} {t:%B} {t.year} (China Standard Time)"
    return f"{t.year}年{t.month}月{t.day}日 {t.hour:02d}:{t.minute:02d}"


def render(kind: str, data: dict[str, Any], lang: str, signature: str) -> str:
    """The complete text of one message: signature, then the body in ``lang``."""
    zh, en = TEMPLATES[kind]
    body = en if lang == "en" else zh
    if "{time}" in body:
        body = body.format(time=format_time(int(data.get("expires_at") or 0), lang))
    return f"{signature}{body}"


class SmsPreferences(msgspec.Struct, kw_only=True):
    """What a person chose: texts on or off, and their language."""

    sms: bool = True
    language: str = "zh-CN"


async def preferences(person_id: str) -> SmsPreferences:
    """A person's notification settings (texts on, zh-CN, until they change them)."""
    row = await NotificationPreference.select().where(NotificationPreference.person_id == person_id).first()
    if row is None:
        return SmsPreferences()
    return SmsPreferences(sms=row["sms_enabled"], language=row["language"])


async def set_preferences(person_id: str, prefs: SmsPreferences, now: int) -> SmsPreferences:
    """Store a person's notification settings (idempotent)."""

    if prefs.language not in LANGUAGES:
        raise ProblemError(422, "unsupported_language", "不支持该语言。 Unsupported language.", field="language")
    await NotificationPreference.insert(
        NotificationPreference(person_id=person_id, sms_enabled=prefs.sms, language=prefs.language, updated_at=now)
    ).on_conflict(
        target=NotificationPreference.person_id,
        action="DO UPDATE",
        values=[NotificationPreference.sms_enabled, NotificationPreference.language, NotificationPreference.updated_at],
    )
    return prefs


async def queue_sms(platform, person_id: str, kind: str, data: dict[str, Any], now: int) -> str | None:
    """Write a text and its delivery job (inside the causing transaction); its status, or None when none is due."""
    if kind not in TEMPLATES:
        return None
    prefs = await preferences(person_id)
    if not prefs.sms:
        return None  # opted out: the in-app notification is all they get
    settings = platform.settings
    recent = await SmsMessage.count().where(
        (SmsMessage.person_id == person_id)
        & (SmsMessage.created_at > now - HOUR_MS)
        & (SmsMessage.status != "rate_limited")
    )
    message_id = uuid.uuid4().hex
    limited = recent >= settings.sms_per_hour
    await SmsMessage.insert(
        SmsMessage(
            message_id=message_id,
            person_id=person_id,
            kind=kind,
            lang=prefs.language,
            content=render(kind, data, prefs.language, settings.sms_signature),
            status="rate_limited" if limited else "pending",
            created_at=now,
        )
    )
    if limited:
        log.info("sms not sent: hourly limit reached", extra={"person": person_id, "kind": kind})
        return "rate_limited"
    await platform.queue.enqueue(
        SMS_JOB, {"message_id": message_id}, dedupe_key=f"sms:{message_id}", max_attempts=MAX_ATTEMPTS
    )
    return "pending"


async def deliver_sms_job(platform, job: JobContext) -> None:
    """Send one text (see the module docstring)."""
    row = await SmsMessage.select().where(SmsMessage.message_id == job.payload["message_id"]).first()
    if row is not None and row["status"] == "failed" and job.attempts == 1:
        row["status"] = "pending"  # a dead-lettered text re-driven by staff
    if row is None or row["status"] != "pending":
        return
    client = platform.push_systems.get(SYSTEM)
    if client is None:
        raise RetryLater("no SMS platform configured (SMS_GATEWAY_URL)", delay=UNCONFIGURED_DELAY)
    where = SmsMessage.id == row["id"]
    try:
        person = await platform.registration.person(row["person_id"])
    except Exception as exc:  # the registration lookup is down: try again later
        raise RetryLater(f"registration lookup: {exc!r}", delay=backoff_seconds(job.attempts)) from exc
    phone = person.phone if person else ""
    if not phone:
        await SmsMessage.update({SmsMessage.status: "failed", SmsMessage.last_error: "no mobile number"}).where(where)
        return
    message = SmsWire(
        message_id=row["message_id"],
        phone=phone,
        template=row["kind"],
        lang=row["lang"],
        content=row["content"],
        signature=platform.settings.sms_signature,
    )
    try:
        ack = await client.push(message)
    except TransientError as exc:
        final = job.attempts >= job.max_attempts
        await SmsMessage.update(
            {
                SmsMessage.attempts: SmsMessage.attempts + 1,
                SmsMessage.last_error: str(exc)[:2000],
                SmsMessage.status: "failed" if final else "pending",
            }
        ).where(where)
        raise RetryLater(
            f"SMS platform: {exc}", delay=max(exc.retry_after or 0, backoff_seconds(job.attempts))
        ) from exc
    except PermanentError as exc:
        await SmsMessage.update(
            {SmsMessage.attempts: SmsMessage.attempts + 1, SmsMessage.status: "failed", SmsMessage.last_error: str(exc)}
        ).where(where)
        log.error("sms refused", extra={"message_id": row["message_id"], "phone": phone, "code": exc.code})
        raise PermanentFailure(str(exc)) from exc
    if ack.status == "rejected":
        reasons = "; ".join(f"{r.code}: {r.message}" for r in ack.reasons)
        await SmsMessage.update(
            {SmsMessage.attempts: SmsMessage.attempts + 1, SmsMessage.status: "failed", SmsMessage.last_error: reasons}
        ).where(where)
        log.warning("sms rejected", extra={"message_id": row["message_id"], "phone": phone, "reasons": reasons})
        return
    await SmsMessage.update(
        {
            SmsMessage.attempts: SmsMessage.attempts + 1,
            SmsMessage.status: "sent",
            SmsMessage.receipt: ack.receipt or "",
            SmsMessage.sent_at: platform.clock.now_ms(),
            SmsMessage.last_error: "",
        }
    ).where(where)
    log.info("sms sent", extra={"message_id": row["message_id"], "phone": phone, "kind": row["kind"]})


async def sms_counts() -> dict[str, int]:
    """Texts by status (sent, pending, failed, rate_limited)."""
    from piccolo.query.functions.aggregate import Count

    rows = await SmsMessage.select(SmsMessage.status, Count(SmsMessage.id, alias="n")).group_by(SmsMessage.status)
    counts = {"sent": 0, "pending": 0, "failed": 0, "rate_limited": 0}
    counts.update({r["status"]: r["n"] for r in rows})
    return counts
