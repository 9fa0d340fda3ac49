"""Signed messages from providers (callbacks, codes, licences): verification and replay refusal.

Every provider message is a compact JWS (JWT) signed with ES256 by a key in the provider's
JWKS. It must name the provider as ``iss`` and the platform as ``aud``, carry a short
validity (``iat``/``exp``, at most ``callback_max_ttl_s`` apart, checked on the platform
clock), and a ``jti`` that is accepted once: ``consume_jti`` records it in the same
transaction as the state change the message causes, so a replay changes nothing.
"""

from __future__ import annotations

from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError

from backend.identity.config import Identity, KeySource
from backend.identity.tables import SeenJti
from backend.lib.problems import ProblemError

MAX_SKEW_S = 60


def sign_message(identity: Identity, key_name: str, claims: dict[str, Any], typ: str) -> str:
    """Sign ``claims`` with one of our keys (the platform's or a sandbox provider's)."""
    key = identity.signing_key(key_name)
    return jwt.encode({"alg": "ES256", "kid": key.kid, "typ": typ}, claims, key)


def _invalid(detail: str) -> ProblemError:
    return ProblemError(401, "callback_invalid", detail)


async def verify_message(
    identity: Identity,
    token: str,
    source: KeySource,
    *,
    issuer: str,
    typ: str,
    audience: str | None = None,
    require_exp: bool = True,
) -> dict[str, Any]:
    """Verify a provider's signed message and return its claims (401 ``callback_invalid``/``callback_expired``)."""
    if not isinstance(token, str) or token.count(".") != 2:
        raise _invalid("签名报文格式错误。 Not a compact JWS.")
    keyset = await source.keyset()
    try:
        try:
            decoded = jwt.decode(token, keyset, algorithms=["ES256"])
        except (JoseError, ValueError) as exc:
            if "kid" in str(exc).lower() or "key" in str(exc).lower():
                decoded = jwt.decode(token, await source.keyset(refresh=True), algorithms=["ES256"])  # key rotation
            else:
                raise
    except (JoseError, ValueError) as exc:
        raise _invalid("签名验证失败。 The signature does not verify against the provider's keys.") from exc
    claims = decoded.claims
    if decoded.header.get("typ") != typ:
        raise _invalid("报文类型不符。 Wrong message type.")
    if claims.get("iss") != issuer:
        raise _invalid("签发方不符。 Wrong issuer.")
    aud = claims.get("aud")
    if audience is not None and aud != audience and not (isinstance(aud, list) and audience in aud):
        raise _invalid("接收方不符。 Wrong audience.")
    now = identity.now_s()
    iat = claims.get("iat")
    if not isinstance(iat, int) or iat > now + MAX_SKEW_S:
        raise _invalid("签发时间无效。 Invalid iat.")
    if require_exp:
        exp = claims.get("exp")
        if not isinstance(exp, int) or exp - iat > identity.config.callback_max_ttl_s:
            raise _invalid("有效期无效或过长。 Missing or too long validity.")
        if exp <= now:
            raise ProblemError(401, "callback_expired", "报文已过期。 The message has expired.")
        if not isinstance(claims.get("jti"), str) or not claims["jti"]:
            raise _invalid("缺少报文编号。 Missing jti.")
    return claims


async def consume_jti(identity: Identity, issuer: str, jti: str, exp_s: int) -> None:
    """Record ``jti`` as used (inside the caller's transaction); 409 ``callback_replayed`` if it was."""
    key = f"{issuer}#{jti}"[:200]
    if await SeenJti.exists().where(SeenJti.jti == key):
        raise ProblemError(
            409, "callback_replayed", "该报文已处理过，拒绝重放。 This message was already accepted (replay refused)."
        )
    try:
        await SeenJti.insert(SeenJti(jti=key, issuer=issuer[:100], expires_at=exp_s * 1000))
    except Exception as exc:  # unique violation from a concurrent duplicate
        raise ProblemError(
            409, "callback_replayed", "该报文已处理过，拒绝重放。 This message was already accepted (replay refused)."
        ) from exc
