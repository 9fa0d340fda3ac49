"""The relying party: OIDC authorization code flow with PKCE against the configured issuer.

authlib's ``AsyncOAuth2Client`` builds the authorization URL and exchanges the code;
joserfc validates the ID token against the issuer's JWKS (issuer, audience, expiry on the
platform clock, nonce). State, nonce and the PKCE verifier are kept server-side
(``identity_login_request``) and consumed once.
"""

from __future__ import annotations

import secrets
import warnings
from typing import Any

from joserfc import jwt
from joserfc.errors import JoseError

from backend.db import writing_transaction
from backend.identity.config import Identity, KeySource
from backend.identity.personas import principal_from_claims
from backend.identity.ports import overlay_staff_claims
from backend.identity.principal import Principal
from backend.identity.tables import LoginRequest
from backend.lib.problems import ProblemError

MAX_SKEW_S = 60


def _client_class():
    import authlib.deprecate  # noqa: F401  (it installs an "always" filter on import; ours must come after)

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # authlib warns that it would prefer httpx2; httpx is our client
        from authlib.integrations.httpx_client import AsyncOAuth2Client
    return AsyncOAuth2Client


def _oauth_client(identity: Identity):
    cls = _client_class()
    return cls(
        client_id=identity.config.oidc_client_id,
        client_secret=identity.config.oidc_client_secret,
        scope="openid profile",
        redirect_uri=identity.redirect_uri,
        code_challenge_method="S256",
        transport=identity.config.transport,
        timeout=10,
    )


def _login_failed(detail: str) -> ProblemError:
    return ProblemError(400, "login_failed", detail)


async def discover(identity: Identity) -> dict[str, Any]:
    """The issuer's OpenID configuration (fetched once and cached)."""
    if identity.oidc_metadata is None:
        async with identity.http() as client:
            try:
                response = await client.get(identity.issuer.rstrip("/") + "/.well-known/openid-configuration")
                response.raise_for_status()
            except Exception as exc:
                raise ProblemError(
                    503,
                    "identity_provider_unavailable",
                    "统一身份认证平台暂不可用，请稍后再试。 The identity provider is unavailable.",
                ) from exc
            metadata = response.json()
        if metadata.get("issuer") != identity.issuer:
            raise ProblemError(503, "identity_provider_unavailable", "identity provider metadata names another issuer")
        identity.oidc_metadata = metadata
        identity.sources["oidc"] = KeySource(url=metadata["jwks_uri"], http=identity.http)
    return identity.oidc_metadata


def safe_return_to(value: str | None) -> str:
    """Only same-site relative paths (no open redirects)."""
    if not value or not value.startswith("/") or value.startswith("//") or "\\" in value:
        return "/"
    return value[:500]


async def start_login(identity: Identity, return_to: str | None = None) -> tuple[str, str]:
    """Record state, nonce and PKCE verifier; return the provider's authorization URL and the state.

    The caller binds the state to the browser (a cookie), so a callback URL made by someone
    else cannot log this browser into their account (login CSRF).
    """
    metadata = await discover(identity)
    state, nonce = secrets.token_urlsafe(24), secrets.token_urlsafe(24)
    verifier = secrets.token_urlsafe(64)[:96]
    now = identity.now_ms()
    async with writing_transaction(identity.platform.engine):
        await LoginRequest.delete().where(LoginRequest.expires_at < now)
        await LoginRequest.insert(
            LoginRequest(
                state=state,
                nonce=nonce,
                code_verifier=verifier,
                return_to=safe_return_to(return_to),
                created_at=now,
                expires_at=now + identity.config.login_ttl_s * 1000,
            )
        )
    async with _oauth_client(identity) as client:
        url, _ = client.create_authorization_url(
            metadata["authorization_endpoint"], state=state, code_verifier=verifier, nonce=nonce
        )
    return url, state


async def validate_id_token(identity: Identity, id_token: str, nonce: str) -> dict[str, Any]:
    """Check the ID token's signature (issuer JWKS), iss, aud, azp, exp/iat and nonce."""
    source = identity.sources["oidc"]
    try:
        try:
            decoded = jwt.decode(id_token, await source.keyset(), algorithms=["ES256", "RS256"])
        except (JoseError, ValueError):
            decoded = jwt.decode(id_token, await source.keyset(refresh=True), algorithms=["ES256", "RS256"])
    except (JoseError, ValueError) as exc:
        raise _login_failed("身份令牌签名无效。 The ID token signature is invalid.") from exc
    claims = decoded.claims
    client_id = identity.config.oidc_client_id
    aud = claims.get("aud")
    audiences = aud if isinstance(aud, list) else [aud]
    now = identity.now_s()
    problems = []
    if claims.get("iss") != identity.issuer:
        problems.append("iss")
    if client_id not in audiences or (len(audiences) > 1 and claims.get("azp") != client_id):
        problems.append("aud")
    if not isinstance(claims.get("exp"), int) or claims["exp"] + MAX_SKEW_S < now:
        problems.append("exp")
    if not isinstance(claims.get("iat"), int) or claims["iat"] > now + MAX_SKEW_S:
        problems.append("iat")
    if not nonce or claims.get("nonce") != nonce:
        problems.append("nonce")
    if not claims.get("sub"):
        problems.append("sub")
    if problems:
        raise _login_failed(
            f"身份令牌校验失败（{', '.join(problems)}）。 The ID token failed validation: {', '.join(problems)}."
        )
    return claims


async def finish_login(identity: Identity, code: str, state: str) -> tuple[Principal, str]:
    """Consume the login state, exchange the code (with the PKCE verifier), validate the ID token."""
    now = identity.now_ms()
    async with writing_transaction(identity.platform.engine):
        row = await LoginRequest.objects().where(LoginRequest.state == state).first()
        if row is not None:
            await LoginRequest.delete().where(LoginRequest.id == row.id)
    if row is None or row.expires_at <= now:
        raise _login_failed("登录请求无效或已过期，请重新登录。 Unknown or expired login state.")
    metadata = await discover(identity)
    async with _oauth_client(identity) as client:
        try:
            token = await client.fetch_token(
                metadata["token_endpoint"], code=code, code_verifier=row.code_verifier, grant_type="authorization_code"
            )
        except Exception as exc:
            raise _login_failed("授权码换取令牌失败。 The code exchange failed.") from exc
    id_token = token.get("id_token")
    if not id_token:
        raise _login_failed("身份提供方未返回身份令牌。 No ID token in the token response.")
    claims = await validate_id_token(identity, id_token, row.nonce)
    claims = await overlay_staff_claims(identity.platform, claims)  # staff roles from the platform's directory
    return principal_from_claims(claims, "oidc"), row.return_to
