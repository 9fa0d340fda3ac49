"""Write notifications and deliver them to an outside channel through the job queue."""

from __future__ import annotations

import logging
from typing import Any

import httpx
import msgspec

from backend.jobs import JobContext, RetryLater
from backend.notifications.sms import queue_sms
from backend.notifications.tables import Notification

log = logging.getLogger("backend.notifications")
DELIVER_JOB = "notifications.deliver"

#: zh-CN / English text of each kind of notification.
MESSAGES = {
    "correction_requested": ("您的注销申请有事项需要补正，请查看。", "An item of your application needs correcting."),
    "draft_expiring": ("您的注销申请草稿即将过期，请尽快提交。", "Your draft application will expire soon."),
    "case_closed": ("您的注销申请已办结。", "Your application has been completed."),
    "signature_requested": ("有一份注销申请等待您签名。", "An application is waiting for your signature."),
    "case_refused": ("您的注销申请有事项不予办理，请查看原因。", "Part of your application was refused: see why."),
    "rating_reply": (
        "您对政务服务的评价已有整改答复，您可以再次评价。",
        "The office you rated has replied; you may rate again.",
    ),
    "due_date_changed": (
        "国家节假日安排调整，您申请中事项的承诺办结日期已变更，请查看。",
        "An official holiday arrangement changed the promised date of an item of your application.",
    ),
}


async def notify(platform, person_id: str, kind: str, data: dict[str, Any]) -> None:
    """Record an in-app notification and queue its outside deliveries: the webhook when configured, and a
    text message for the events that have one (``sms.TEMPLATES``) unless the person opted out
    (call inside the causing transaction)."""
    now = platform.clock.now_ms()
    rows = await Notification.insert(
        Notification(person_id=person_id, kind=kind, data=msgspec.json.encode(data).decode(), created_at=now)
    ).returning(Notification.id)
    if platform.settings.notify_webhook_url:
        await platform.queue.enqueue(DELIVER_JOB, {"id": rows[0]["id"]}, dedupe_key=f"notify:{rows[0]['id']}")
    await queue_sms(platform, person_id, kind, data, now)


async def deliver_job(platform, job: JobContext) -> None:
    """POST one notification to the configured gateway; retried on network errors and 5xx."""
    row = await Notification.select().where(Notification.id == job.payload["id"]).first()
    if row is None:
        return
    zh, en = MESSAGES.get(row["kind"], ("您有一条新消息。", "You have a new message."))
    body = {
        "id": row["id"],
        "person_id": row["person_id"],
        "kind": row["kind"],
        "text": {"zh-CN": zh, "en": en},
        "data": msgspec.json.decode(row["data"]),
    }
    try:
        async with httpx.AsyncClient(timeout=5) as client:
            response = await client.post(
                platform.settings.notify_webhook_url,
                json=body,
                headers={"Idempotency-Key": f"notification-{row['id']}"},
            )
    except httpx.HTTPError as exc:
        raise RetryLater(f"notification gateway unreachable: {exc!r}") from exc
    if response.status_code >= 500 or response.status_code == 429:
        raise RetryLater(f"notification gateway answered {response.status_code}")
    if response.status_code >= 400:
        log.error("notification refused by gateway", extra={"id": row["id"], "status": response.status_code})


class NotificationView(msgspec.Struct):
    id: int
    kind: str
    text: dict[str, str]
    data: dict
    created_at: int
    read_at: int | None = None


async def inbox(person_id: str) -> list[NotificationView]:
    """The person's last 100 notifications, newest first, in both languages."""
    rows = (
        await Notification.select()
        .where(Notification.person_id == person_id)
        .order_by(Notification.id, ascending=False)
        .limit(100)
    )
    return [
        NotificationView(
            id=r["id"],
            kind=r["kind"],
            text=dict(
                zip(
                    ("zh-CN", "en"),
                    MESSAGES.get(r["kind"], ("您有一条新消息。", "You have a new message.")),
                    strict=True,
                )
            ),
            data=msgspec.json.decode(r["data"]),
            created_at=r["created_at"],
            read_at=r["read_at"],
        )
        for r in rows
    ]


async def mark_read(person_id: str, notification_id: int, now_ms: int) -> None:
    """Mark the person's notification read (nothing if it is not theirs or already read)."""
    await Notification.update({Notification.read_at: now_ms}).where(
        (Notification.id == notification_id) & (Notification.person_id == person_id) & (Notification.read_at.is_null())
    )
