"""In-app notifications for the signed-in person."""

from __future__ import annotations

import msgspec
from litestar import get, post, put
from litestar.params import FromPath, JSONBody

from backend.cases.service import ActorDep
from backend.notifications import sms
from backend.notifications.service import MESSAGES
from backend.notifications.tables import Notification
from backend.platform import PlatformDep


class NotificationView(msgspec.Struct):
    id: int
    kind: str
    text: dict[str, str]
    data: dict
    created_at: int
    read_at: int | None = None


@get("/api/v1/notifications", tags=["notifications"], summary="My notifications, newest first")
async def my_notifications(actor: ActorDep) -> list[NotificationView]:
    rows = (
        await Notification.select()
        .where(Notification.person_id == actor.id)
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


@post(
    "/api/v1/notifications/{notification_id:int}/read",
    status_code=204,
    tags=["notifications"],
    summary="Mark a notification as read",
)
async def mark_read(platform: PlatformDep, actor: ActorDep, notification_id: FromPath[int]) -> None:
    await Notification.update({Notification.read_at: platform.clock.now_ms()}).where(
        (Notification.id == notification_id) & (Notification.person_id == actor.id) & (Notification.read_at.is_null())
    )


@get("/api/v1/notifications/preferences", tags=["notifications"], summary="My notification settings (text messages)")
async def my_preferences(actor: ActorDep) -> sms.SmsPreferences:
    return await sms.preferences(actor.id)


@put(
    "/api/v1/notifications/preferences", tags=["notifications"], summary="Turn text messages on or off; their language"
)
async def set_my_preferences(
    platform: PlatformDep, actor: ActorDep, data: JSONBody[sms.SmsPreferences]
) -> sms.SmsPreferences:
    return await sms.set_preferences(actor.id, data, platform.clock.now_ms())


ROUTES = [my_notifications, mark_read, my_preferences, set_my_preferences]
