"""Kiosk terminal credentials: each terminal holds its own private key; the platform keeps its public key.

A terminal gets an access token with a signed assertion (RFC 7523 style JWT: ``iss`` = ``sub`` =
terminal id, ``aud`` = the token URL, short ``exp``, single-use ``jti``), posted to
``/auth/terminal/token``. Administrators register and disable terminals. In the test
environment the personas ``kiosk-*`` stand in for registered terminals.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec
from joserfc import jws, jwt
from joserfc.errors import JoseError
from joserfc.jwk import ECKey

from backend.db import writing_transaction
from backend.identity.config import get_identity
from backend.identity.principal import KIOSK_TERMINAL, Principal, TokenPair, require_admin, unauthenticated
from backend.identity.sessions import end_terminal_sessions, issue_session
from backend.identity.signed import consume_jti
from backend.identity.tables import KioskTerminal
from backend.lib.problems import ProblemError
from backend.platform import Platform

_TERMINAL_ID = re.compile(r"[a-z0-9][a-z0-9-]{2,63}")  # fullmatch: "$" would let a final newline in
MAX_ASSERTION_TTL_S = 300


class TerminalRegistration(msgspec.Struct, kw_only=True):
    terminal_id: str
    name: str
    hall: str
    region: str
    public_jwk: dict[str, Any]
    """The terminal's EC P-256 public key (JWK); the private key never leaves the terminal."""


class TerminalView(msgspec.Struct, kw_only=True):
    terminal_id: str
    name: str
    hall: str
    region: str
    enabled: bool
    created_at: int
    disabled_at: int | None = None


def _view(row: KioskTerminal) -> TerminalView:
    return TerminalView(
        terminal_id=row.terminal_id,
        name=row.name,
        hall=row.hall,
        region=row.region,
        enabled=row.enabled,
        created_at=row.created_at,
        disabled_at=row.disabled_at,
    )


def _jwk(value: Any) -> dict[str, Any]:
    return msgspec.json.decode(value) if isinstance(value, (str, bytes)) else dict(value)


async def register_terminal(platform: Platform, admin: Principal, data: TerminalRegistration) -> TerminalView:
    """Register a terminal and its public key (administrators only)."""
    require_admin(admin)
    if not _TERMINAL_ID.fullmatch(data.terminal_id):
        raise ProblemError(
            422,
            "invalid_terminal_id",
            "终端编号只能包含小写字母、数字和连字符。 Invalid terminal id.",
            field="terminal_id",
        )
    if "d" in data.public_jwk:
        raise ProblemError(
            422, "invalid_public_key", "只能登记公钥，不要上传私钥。 Send the public key only.", field="public_jwk"
        )
    try:
        key = ECKey.import_key(data.public_jwk)
        if key.as_dict().get("crv") != "P-256":
            raise ValueError("P-256 required")
    except (JoseError, ValueError, TypeError) as exc:
        raise ProblemError(
            422, "invalid_public_key", "公钥须为 EC P-256 JWK。 The key must be an EC P-256 JWK.", field="public_jwk"
        ) from exc
    now = get_identity(platform).now_ms()
    row = KioskTerminal(
        terminal_id=data.terminal_id,
        name=data.name[:100],
        hall=data.hall[:64],
        region=data.region[:12],
        public_jwk=msgspec.json.encode(key.as_dict(private=False)).decode(),
        created_at=now,
    )
    async with writing_transaction(platform.engine):
        if await KioskTerminal.exists().where(KioskTerminal.terminal_id == data.terminal_id):
            raise ProblemError(
                409, "terminal_exists", "该终端已登记。 The terminal is already registered.", field="terminal_id"
            )
        await KioskTerminal.insert(row)
    return _view(row)


async def list_terminals(platform: Platform) -> list[TerminalView]:
    return [_view(r) for r in await KioskTerminal.objects().order_by(KioskTerminal.terminal_id)]


async def disable_terminal(platform: Platform, admin: Principal, terminal_id: str) -> TerminalView:
    """Disable a terminal: it can get no new tokens, and the tokens it and its visitors hold stop at once."""
    require_admin(admin)
    now = get_identity(platform).now_ms()
    async with writing_transaction(platform.engine):
        row = await KioskTerminal.objects().where(KioskTerminal.terminal_id == terminal_id).first()
        if row is None:
            raise ProblemError(404, "terminal_not_found", "终端不存在。 No such terminal.")
        await KioskTerminal.update({KioskTerminal.enabled: False, KioskTerminal.disabled_at: now}).where(
            KioskTerminal.id == row.id
        )
    row.enabled, row.disabled_at = False, now
    await end_terminal_sessions(get_identity(platform), terminal_id)
    return _view(row)


def terminal_token_url(platform: Platform) -> str:
    return f"{get_identity(platform).base_url}/auth/terminal/token"


async def terminal_token(platform: Platform, assertion: str) -> TokenPair:
    """Exchange a terminal's signed assertion for an access token (kiosk_terminal role, no refresh)."""
    identity = get_identity(platform)
    try:
        unverified = jws.extract_compact(assertion.encode())
        terminal_id = str(msgspec.json.decode(unverified.payload).get("iss", ""))
    except Exception as exc:
        raise unauthenticated("终端凭证无效。 Invalid terminal assertion.") from exc
    row = await KioskTerminal.objects().where(KioskTerminal.terminal_id == terminal_id).first()
    if row is None or not row.enabled:
        raise unauthenticated("终端未登记或已停用。 Unknown or disabled terminal.")
    try:
        claims = jwt.decode(assertion, ECKey.import_key(_jwk(row.public_jwk)), algorithms=["ES256"]).claims
    except (JoseError, ValueError) as exc:
        raise unauthenticated("终端凭证签名无效。 The assertion signature is invalid.") from exc
    now = identity.now_s()
    iat, exp = claims.get("iat"), claims.get("exp")
    if (
        claims.get("sub") != terminal_id
        or claims.get("aud") != terminal_token_url(platform)
        or not isinstance(iat, int)
        or not isinstance(exp, int)
        or exp <= now
        or iat > now + 60
        or exp - iat > MAX_ASSERTION_TTL_S
        or not claims.get("jti")
    ):
        raise unauthenticated("终端凭证已过期或无效。 The assertion is expired or invalid.")
    async with writing_transaction(platform.engine):
        await consume_jti(identity, f"terminal:{terminal_id}", str(claims["jti"]), exp)
    principal = Principal(
        subject=terminal_id,
        name=row.name,
        roles=[KIOSK_TERMINAL],
        auth_method="terminal_key",
        terminal_id=terminal_id,
        hall=row.hall,
        regions=[row.region] if row.region else [],
    )
    return await issue_session(identity, principal, "terminal", with_refresh=False)
