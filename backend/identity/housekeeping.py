"""Housekeeping: expired login requests, seen ``jti`` values past their expiry, old sessions and tokens."""

from __future__ import annotations

from typing import Any

from backend.db import writing_transaction
from backend.identity.config import get_identity
from backend.identity.tables import LoginRequest, PlatformSession, RefreshToken, SeenJti
from backend.platform import Platform

PURGE_JOB = "identity.purge"
PURGE_EVERY_S = 3600
KEEP_ENDED_SESSIONS_DAYS = 30


async def purge_expired(platform: Platform) -> None:
    """Delete what can no longer matter (a replayed message past its ``exp`` fails on expiry anyway)."""
    now = get_identity(platform).now_ms()
    async with writing_transaction(platform.engine):
        await LoginRequest.delete().where(LoginRequest.expires_at < now)
        await SeenJti.delete().where(SeenJti.expires_at < now - 3600_000)
        await RefreshToken.delete().where(RefreshToken.expires_at < now)
        await PlatformSession.delete().where(PlatformSession.expires_at < now - KEEP_ENDED_SESSIONS_DAYS * 86400_000)


def job_handlers(platform: Platform) -> dict[str, Any]:
    """Identity's job handlers: ``identity.purge`` runs hourly (it re-enqueues itself)."""

    async def purge(job: Any) -> None:
        await purge_expired(platform)
        bucket = get_identity(platform).now_ms() // (PURGE_EVERY_S * 1000) + 1
        await platform.queue.enqueue(PURGE_JOB, {}, delay_seconds=PURGE_EVERY_S, dedupe_key=f"{PURGE_JOB}:{bucket}")

    return {PURGE_JOB: purge}
