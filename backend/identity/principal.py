"""Who is calling: the ``Principal``, the platform's access tokens, the dependency and role guards.

Access tokens are ES256 JWTs signed by the platform (about 10 minutes). Browsers carry them
in an HttpOnly SameSite=Lax cookie; an unsafe method authenticated by that cookie must also
send ``X-CSRF-Token`` equal to the token's ``csrf`` claim (signed double submit: the value
is also in the readable ``yjs_csrf`` cookie). Scripts send ``Authorization: Bearer``.
"""

from __future__ import annotations

import hashlib
import secrets
import uuid
from typing import Any, Literal

import msgspec
from joserfc import jwt
from joserfc.errors import JoseError
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency, Provide
from litestar.handlers.base import BaseRouteHandler

from backend.identity.actor import is_admin, require_admin
from backend.identity.config import PLATFORM_KEY, Identity, get_identity
from backend.lib.problems import ProblemError

ACCESS_COOKIE = "yjs_access"
REFRESH_COOKIE = "yjs_refresh"
CSRF_COOKIE = "yjs_csrf"
CSRF_HEADER = "X-CSRF-Token"
TOKEN_AUDIENCE = "yjs-api"  # noqa: S105 - an audience name, not a secret
SAFE_METHODS = frozenset({"GET", "HEAD", "OPTIONS"})

# Global roles. Acting for an enterprise (legal representative, investor, liquidation group,
# agent) and co-signing are relations to an enterprise or a document, checked by
# ``may_act_for`` and ``require_co_signer``, not roles in the token.
APPLICANT = "applicant"
AGENCY_STAFF = "agency_staff"
WINDOW_STAFF = "window_staff"
ADMIN = "admin"
KIOSK_TERMINAL = "kiosk_terminal"
TESTER = "tester"
STAFF_ROLES = frozenset({AGENCY_STAFF, WINDOW_STAFF, ADMIN})
ONLY_ADMIN = "此操作仅限平台管理员。 Only admin may do this."  # the wording identity's admin checks have always had

AuthMethod = Literal["oidc", "sandbox_token", "kiosk", "terminal_key"]


class Principal(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """The authenticated caller."""

    subject: str
    """Person id for natural persons (the identity provider's ``sub``); staff, admin or terminal id otherwise."""
    name: str
    roles: list[str]
    auth_method: AuthMethod
    session_id: str = ""
    person_id: str | None = None
    id_number: str | None = None
    agencies: list[str] = []
    """Agency (business system) codes for agency staff, e.g. ``etax``, ``amr``."""
    regions: list[str] = []
    """GB/T 2260 prefixes the staff member may see (``35`` = the whole province)."""
    hall: str | None = None
    """Service hall of window staff and of kiosk terminals."""
    terminal_id: str | None = None
    face_verified_at: int | None = None
    """Epoch ms of the face verification this session is bound to (kiosk sessions)."""
    persona: str | None = None

    def has_role(self, *roles: str) -> bool:
        return any(r in self.roles for r in roles)

    @property
    def is_person(self) -> bool:
        return self.person_id is not None


PrincipalDep = NamedDependency[Principal]
"""Route parameter type: ``principal: PrincipalDep`` injects the authenticated caller (401 otherwise)."""
OptionalPrincipalDep = NamedDependency[Principal | None]
"""Route parameter type: ``optional_principal: OptionalPrincipalDep``."""


class TokenPair(msgspec.Struct, kw_only=True):
    """What a login, a refresh or ``/sandbox/token`` hands out."""

    access_token: str
    token_type: str = "Bearer"  # noqa: S105 - the OAuth token type, not a secret
    expires_in: int
    csrf_token: str
    refresh_token: str | None = None
    """null where the session cannot be refreshed (a kiosk terminal, a kiosk visitor)."""
    session_id: str = ""


def unauthenticated(detail: str = "请先登录。 Please sign in.") -> ProblemError:
    return ProblemError(401, "unauthenticated", detail, headers={"WWW-Authenticate": 'Bearer realm="yjs"'})


def forbidden(detail: str) -> ProblemError:
    return ProblemError(403, "forbidden", detail)


def sha256_hex(value: str | bytes) -> str:
    return hashlib.sha256(value.encode() if isinstance(value, str) else value).hexdigest()


def new_id(prefix: str = "") -> str:
    return prefix + uuid.uuid4().hex


def encode_access_token(
    identity: Identity, principal: Principal, csrf: str, ttl_s: int | None = None
) -> tuple[str, int]:
    """Sign an access token for ``principal``; returns the token and its lifetime in seconds."""
    ttl = ttl_s or identity.config.access_ttl_s
    now = identity.now_s()
    key = identity.signing_key(PLATFORM_KEY)
    claims = {
        "iss": identity.platform_issuer,
        "aud": TOKEN_AUDIENCE,
        "sub": principal.subject,
        "sid": principal.session_id,
        "iat": now,
        "exp": now + ttl,
        "jti": new_id(),
        "csrf": sha256_hex(csrf),
        "pr": msgspec.to_builtins(principal),
    }
    return jwt.encode({"alg": "ES256", "kid": key.kid, "typ": "at+jwt"}, claims, key), ttl


VERIFIED_TOKENS_MAX = 20_000


def decode_access_token(identity: Identity, token: str) -> dict[str, Any]:
    """Verify signature, issuer, audience and expiry (on the platform clock) and return the claims.

    A token's signature is checked once per process (the verified claims are kept until the token
    expires), so a phone polling its case costs no signature check per request.
    """
    accepted = identity.accepted_keys(PLATFORM_KEY)  # re-reads the key file when it changed (rotation)
    if identity.verified_keys_version != identity.keyfile.version:
        identity.verified_tokens.clear()  # a retired key's tokens must not outlive it in this cache
        identity.verified_keys_version = identity.keyfile.version
    claims = identity.verified_tokens.get(token)
    if claims is None:
        try:
            decoded = jwt.decode(token, accepted, algorithms=["ES256"])
        except (JoseError, ValueError) as exc:
            raise unauthenticated("登录凭证无效。 The access token is invalid.") from exc
        claims = decoded.claims
        if (
            decoded.header.get("typ") != "at+jwt"
            or claims.get("iss") != identity.platform_issuer
            or claims.get("aud") != TOKEN_AUDIENCE
        ):
            raise unauthenticated("登录凭证无效。 The access token is invalid.")
        if not isinstance(claims.get("exp"), int):
            raise unauthenticated("登录凭证无效。 The access token is invalid.")
        if len(identity.verified_tokens) >= VERIFIED_TOKENS_MAX:
            identity.verified_tokens.clear()
        identity.verified_tokens[token] = claims
    if claims["exp"] <= identity.now_s():
        identity.verified_tokens.pop(token, None)
        raise unauthenticated("登录已过期，请重新登录。 The access token has expired.")
    return claims


def _bearer(connection: ASGIConnection) -> str | None:
    header = connection.headers.get("authorization", "")
    scheme, _, value = header.partition(" ")
    if scheme.lower() == "bearer" and value.strip():
        return value.strip()
    return None


async def resolve_principal(connection: ASGIConnection) -> Principal | None:
    """The caller, or None when no credentials came; raises 401/403 for bad ones. Cached per request."""
    state = connection.scope.setdefault("state", {})
    if "identity_principal" in state:
        return state["identity_principal"]
    platform = connection.app.state["platform"]
    identity = get_identity(platform)
    token = _bearer(connection)
    from_cookie = False
    if token is None:
        token = connection.cookies.get(ACCESS_COOKIE)
        from_cookie = token is not None
    if token is None:
        state["identity_principal"] = None
        return None
    claims = decode_access_token(identity, token)
    method = connection.scope.get("method", "GET")
    if from_cookie and method not in SAFE_METHODS:
        sent = connection.headers.get(CSRF_HEADER.lower(), "")
        if not sent or not secrets.compare_digest(sha256_hex(sent), str(claims.get("csrf", ""))):
            raise ProblemError(
                403, "csrf_failed", "请求缺少有效的防伪令牌（X-CSRF-Token）。 Missing or wrong CSRF token."
            )
    principal = msgspec.convert(claims["pr"], Principal)
    if principal.auth_method == "kiosk":
        from backend.identity.sessions import touch_kiosk_session

        await touch_kiosk_session(identity, principal.session_id)
    elif principal.session_id:
        # An access token lives ~10 minutes; logout and refresh-token reuse end its session, and
        # with it the token, within seconds (sessions.session_open: a short per-process cache that
        # the end of a session clears in every process)
        from backend.identity.sessions import session_open

        if not await session_open(identity, principal.session_id):
            raise unauthenticated("会话已结束，请重新登录。 The session has ended; please sign in again.")
    state["identity_principal"] = principal
    return principal


async def provide_principal(request: Request) -> Principal:
    """Dependency ``principal``: the authenticated caller, or a 401 ``unauthenticated`` problem."""
    principal = await resolve_principal(request)
    if principal is None:
        raise unauthenticated()
    return principal


async def provide_optional_principal(request: Request) -> Principal | None:
    """Dependency ``optional_principal``: the caller if credentials came, else None."""
    return await resolve_principal(request)


IDENTITY_DEPENDENCIES: dict[str, Provide] = {
    "principal": Provide(provide_principal),
    "optional_principal": Provide(provide_optional_principal),
}
"""Register in ``create_app``: ``dependencies={..., **IDENTITY_DEPENDENCIES}``."""


async def _router_principal(request: Request) -> Principal:
    return await provide_principal(request)


async def _router_optional_principal(request: Request) -> Principal | None:
    return await provide_optional_principal(request)


# Identity's own routers carry their dependencies too (distinct providers, since Litestar refuses
# one provider object on two layers), so they work whether or not the app registers them.
ROUTER_DEPENDENCIES: dict[str, Provide] = {
    "principal": Provide(_router_principal),
    "optional_principal": Provide(_router_optional_principal),
}


# ---- role checks (services) and guards (routes) -------------------------------------------

_ROLE_LABELS = {
    APPLICANT: "申请人",
    AGENCY_STAFF: "部门工作人员",
    WINDOW_STAFF: "窗口工作人员",
    ADMIN: "平台管理员",
    KIOSK_TERMINAL: "自助终端",
    TESTER: "测试人员",
}


def require_role(principal: Principal, *roles: str) -> Principal:
    """403 unless the principal holds one of ``roles``."""
    if not principal.has_role(*roles):
        labels = "、".join(_ROLE_LABELS.get(r, r) for r in roles)
        raise forbidden(f"此操作仅限{labels}。 Only {', '.join(roles)} may do this.")
    return principal


def require_person(principal: Principal) -> Principal:
    """403 unless the caller is a natural person (an applicant, possibly at a kiosk)."""
    if not principal.is_person or APPLICANT not in principal.roles:
        raise forbidden("此操作需由本人办理。 Only a signed-in person may do this.")
    return principal


def region_in_scope(principal: Principal, region: str | None) -> bool:
    if region is None:
        return True
    return any(region.startswith(prefix) for prefix in principal.regions)


def require_agency_staff(principal: Principal, agency: str | None = None, region: str | None = None) -> Principal:
    """403 unless the caller is staff of ``agency`` with ``region`` in scope (admins pass)."""
    if is_admin(principal):
        return principal
    require_role(principal, AGENCY_STAFF)
    if agency is not None and agency not in principal.agencies:
        raise forbidden("您不是该部门的工作人员。 You are not staff of this agency.")
    if not region_in_scope(principal, region):
        raise forbidden("该事项不在您的辖区内。 This matter is outside your region.")
    return principal


def require_window_staff(principal: Principal, hall: str | None = None) -> Principal:
    """403 unless the caller is window staff (of ``hall`` if given)."""
    require_role(principal, WINDOW_STAFF)
    if hall is not None and principal.hall != hall:
        raise forbidden("您不是该服务大厅的窗口人员。 You are not window staff of this hall.")
    return principal


def require_kiosk_terminal(principal: Principal) -> Principal:
    """403 unless the caller is a kiosk terminal's own credential (not a person at it)."""
    if KIOSK_TERMINAL not in principal.roles or principal.person_id is not None or not principal.terminal_id:
        raise forbidden("此操作仅限自助终端。 Only a self-service terminal may do this.")
    return principal


def requires(*roles: str):
    """A Litestar guard: the caller must be authenticated and hold one of ``roles``."""

    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        principal = await resolve_principal(connection)
        if principal is None:
            raise unauthenticated()
        require_role(principal, *roles)

    guard.__name__ = f"requires_{'_or_'.join(roles)}"
    return guard


async def admins_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A Litestar guard: the caller must be an authenticated administrator (``require_admin``)."""
    principal = await resolve_principal(connection)
    if principal is None:
        raise unauthenticated()
    require_admin(principal, ONLY_ADMIN)


async def authenticated(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """A Litestar guard: any authenticated caller."""
    if await resolve_principal(connection) is None:
        raise unauthenticated()


def identity_of(connection_or_platform: Any) -> Identity:
    platform = (
        connection_or_platform.app.state["platform"]
        if hasattr(connection_or_platform, "app")
        else connection_or_platform
    )
    return get_identity(platform)
