"""Platform sessions: issue tokens, rotate refresh tokens (reuse revokes the session), log out, kiosk idle time."""

from __future__ import annotations

import logging
import secrets
import time
from typing import Any

import msgspec

from backend.db import writing_transaction
from backend.identity.config import Identity
from backend.identity.principal import Principal, TokenPair, encode_access_token, new_id, sha256_hex, unauthenticated
from backend.identity.tables import PlatformSession, RefreshToken

log = logging.getLogger("backend.identity")

SESSIONS_ENDED = "identity:sessions-ended"
"""The channel on which an ended session's id reaches every API process (``session_ended``)."""
SESSION_CACHE_MAX = 50_000


async def issue_session(
    identity: Identity, principal: Principal, kind: str = "web", *, idle_timeout_s: int = 0, with_refresh: bool = True
) -> TokenPair:
    """Start a session for ``principal`` and hand out its first tokens."""
    now = identity.now_ms()
    sid = new_id("s")
    principal = msgspec.structs.replace(principal, session_id=sid)
    refresh = secrets.token_urlsafe(32) if with_refresh else None
    absolute = identity.config.refresh_ttl_s if with_refresh else identity.config.access_ttl_s
    async with writing_transaction(identity.platform.engine):
        await PlatformSession.insert(
            PlatformSession(
                sid=sid,
                subject=principal.subject,
                claims=msgspec.json.encode(principal).decode(),
                kind=kind,
                created_at=now,
                last_seen_at=now,
                expires_at=now + absolute * 1000,
                idle_timeout_s=idle_timeout_s,
            )
        )
        if refresh is not None:
            await RefreshToken.insert(
                RefreshToken(
                    token_hash=sha256_hex(refresh),
                    sid=sid,
                    created_at=now,
                    expires_at=now + identity.config.refresh_ttl_s * 1000,
                )
            )
    csrf = secrets.token_urlsafe(24)
    ttl = identity.config.access_ttl_s
    if idle_timeout_s:
        ttl = min(ttl, max(identity.config.access_ttl_s, idle_timeout_s))
    access, expires_in = encode_access_token(identity, principal, csrf, ttl)
    return TokenPair(access_token=access, expires_in=expires_in, csrf_token=csrf, refresh_token=refresh, session_id=sid)


async def _end(identity: Identity, sid: str, reason: str) -> None:
    now = identity.now_ms()
    await PlatformSession.update({PlatformSession.ended_at: now, PlatformSession.ended_reason: reason}).where(
        (PlatformSession.sid == sid) & PlatformSession.ended_at.is_null()
    )
    await RefreshToken.update({RefreshToken.revoked_at: now}).where(
        (RefreshToken.sid == sid) & RefreshToken.revoked_at.is_null()
    )


async def refresh_session(identity: Identity, refresh_token: str) -> TokenPair:
    """Exchange a refresh token for new tokens; a refresh token used twice ends its whole session."""
    now = identity.now_ms()
    token_hash = sha256_hex(refresh_token)
    reused = False
    claims: Any = None  # the session's, read below unless the token was reused
    new_refresh = ""
    async with writing_transaction(identity.platform.engine):
        row = await RefreshToken.objects().where(RefreshToken.token_hash == token_hash).first()
        if row is None:
            raise unauthenticated("刷新凭证无效。 Unknown refresh token.")
        if row.used_at is not None or row.revoked_at is not None:
            # Reuse of a rotated token means it leaked: end the session (RFC 9700 §4.14.2).
            await _end(identity, row.sid, "refresh_reused")
            reused = True
        else:
            session = await PlatformSession.objects().where(PlatformSession.sid == row.sid).first()
            if row.expires_at <= now or session is None or session.ended_at is not None or session.expires_at <= now:
                raise unauthenticated("会话已结束，请重新登录。 The session has ended.")
            claims = session.claims
            await RefreshToken.update({RefreshToken.used_at: now}).where(RefreshToken.id == row.id)
            new_refresh = secrets.token_urlsafe(32)
            await RefreshToken.insert(
                RefreshToken(token_hash=sha256_hex(new_refresh), sid=row.sid, created_at=now, expires_at=row.expires_at)
            )
            await PlatformSession.update({PlatformSession.last_seen_at: now}).where(PlatformSession.id == session.id)
    if reused:
        await _announce_end(identity, row.sid)
        raise unauthenticated("刷新凭证已被使用，会话已终止。 Refresh token reuse detected; the session was ended.")
    principal = msgspec.json.decode(
        claims if isinstance(claims, (str, bytes)) else msgspec.json.encode(claims),
        type=Principal,
    )
    csrf = secrets.token_urlsafe(24)
    access, expires_in = encode_access_token(identity, principal, csrf)
    return TokenPair(
        access_token=access, expires_in=expires_in, csrf_token=csrf, refresh_token=new_refresh, session_id=row.sid
    )


async def end_session(identity: Identity, sid: str, reason: str = "logout") -> None:
    """Log out: end the session and revoke its refresh tokens."""
    async with writing_transaction(identity.platform.engine):
        await _end(identity, sid, reason)
    await _announce_end(identity, sid)  # after the commit: a process asking the database now finds it ended


async def end_terminal_sessions(identity: Identity, terminal_id: str, reason: str = "terminal_disabled") -> int:
    """End every open session of a kiosk terminal: its own and its visitors' (a disabled terminal's
    tokens stop at once rather than when they expire). Returns how many ended."""
    own = (PlatformSession.kind == "terminal") & (PlatformSession.subject == terminal_id)
    rows = await PlatformSession.select(PlatformSession.sid, PlatformSession.kind, PlatformSession.claims).where(
        PlatformSession.ended_at.is_null() & (own | (PlatformSession.kind == "kiosk"))
    )
    ended = 0
    for row in rows:
        # a visitor's session names its terminal in its claims (a JSON column: compared here, as
        # PostgreSQL's json has no LIKE; open kiosk sessions are few, each ends after minutes idle)
        claims = row["claims"]
        if row["kind"] == "kiosk":
            data = msgspec.json.decode(claims) if isinstance(claims, (str, bytes)) else claims
            if not isinstance(data, dict) or data.get("terminal_id") != terminal_id:
                continue
        await end_session(identity, row["sid"], reason)
        ended += 1
    return ended


async def _announce_end(identity: Identity, sid: str) -> None:
    """Refuse the session's access tokens here at once, and in every other API process as the notice arrives."""
    session_ended(identity, sid)
    announce = identity.platform.announce_session_end
    if announce is None:
        return
    try:
        await announce(sid)
    except Exception as exc:  # the notice is best effort: session_check_s bounds what a lost one leaves open
        log.warning("session end not announced", extra={"error": repr(exc)})


def session_ended(identity: Identity, sid: str) -> None:
    """Forget that ``sid`` was open (this process); its access tokens are refused from now on."""
    identity.open_sessions.pop(sid, None)
    if len(identity.ended_sessions) >= SESSION_CACHE_MAX:
        identity.ended_sessions.clear()  # only a cache: the database still says the session ended
    identity.ended_sessions[sid] = None


async def session_open(identity: Identity, sid: str) -> bool:
    """True if the platform session ``sid`` is still open (not logged out, not ended by refresh-token
    reuse or timeout, not past its absolute expiry). Trusted for ``session_check_s`` per process;
    an ended session's notice (``SESSIONS_ENDED``) drops that trust at once."""
    if sid in identity.ended_sessions:
        return False
    now = time.monotonic()
    if identity.open_sessions.get(sid, 0.0) > now:
        return True
    row = (
        await PlatformSession.select(PlatformSession.ended_at, PlatformSession.expires_at)
        .where(PlatformSession.sid == sid)
        .first()
    )
    if row is None or row["ended_at"] is not None or row["expires_at"] <= identity.now_ms():
        session_ended(identity, sid)
        return False
    if len(identity.open_sessions) >= SESSION_CACHE_MAX:
        identity.open_sessions.clear()
    identity.open_sessions[sid] = now + identity.config.session_check_s
    return True


async def session_of_refresh(identity: Identity, refresh_token: str) -> str | None:
    row = (
        await RefreshToken.select(RefreshToken.sid).where(RefreshToken.token_hash == sha256_hex(refresh_token)).first()
    )
    return row["sid"] if row else None


async def touch_kiosk_session(identity: Identity, sid: str) -> None:
    """A kiosk session lives while used: idle longer than its timeout and it is over (401)."""
    now = identity.now_ms()
    row = await PlatformSession.objects().where(PlatformSession.sid == sid).first()
    if row is None or row.ended_at is not None:
        raise unauthenticated("自助终端会话已结束。 The kiosk session has ended.")
    if now >= row.expires_at or (row.idle_timeout_s and now - row.last_seen_at > row.idle_timeout_s * 1000):
        await end_session(identity, sid, "timeout")
        raise unauthenticated("长时间未操作，会话已结束。 The kiosk session timed out.")
    async with writing_transaction(identity.platform.engine):
        await PlatformSession.update({PlatformSession.last_seen_at: now}).where(PlatformSession.id == row.id)
