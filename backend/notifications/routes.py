"""In-app notifications for the signed-in person."""

from __future__ import annotations

from litestar import get, post, put
from litestar.params import FromPath, JSONBody

from backend.identity.actor import ActorDep
from backend.notifications import service, sms
from backend.notifications.service import NotificationView
from backend.platform import PlatformDep


@get("/api/v1/notifications", tags=["notifications"], summary="My notifications, newest first")
async def my_notifications(actor: ActorDep) -> list[NotificationView]:
    return await service.inbox(actor.id)


@post(
    "/api/v1/notifications/{notification_id:int}/read",
    status_code=204,
    tags=["notifications"],
    summary="Mark a notification as read",
)
async def mark_read(platform: PlatformDep, actor: ActorDep, notification_id: FromPath[int]) -> None:
    await service.mark_read(actor.id, notification_id, platform.clock.now_ms())


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
