"""Public identity routes: login, session, me, mandates, face verification, signatures, seals, licence, audit."""

from __future__ import annotations

import base64
import binascii
import secrets
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from litestar.response import Redirect

from backend.identity import audit, directory, face, kiosk, licence, signing, terminals
from backend.identity.config import get_identity
from backend.identity.masking import mask_id_number
from backend.identity.oidc_client import finish_login, start_login
from backend.identity.principal import (
    ACCESS_COOKIE,
    ADMIN,
    AGENCY_STAFF,
    CSRF_COOKIE,
    CSRF_HEADER,
    KIOSK_TERMINAL,
    REFRESH_COOKIE,
    ROUTER_DEPENDENCIES,
    WINDOW_STAFF,
    Principal,
    PrincipalDep,
    TokenPair,
    forbidden,
    require_person,
    requires,
    resolve_principal,
    unauthenticated,
)
from backend.identity.ratelimit import SharedRateLimitMiddleware
from backend.identity.sessions import end_session, issue_session, refresh_session, session_of_refresh
from backend.lib import jsonbody
from backend.lib.openapi import OPT_FILE_MEDIA_TYPES
from backend.lib.problems import ProblemError
from backend.lib.validators import validate_uscc
from backend.platform import Platform, PlatformDep

REFRESH_COOKIE_PATH = "/auth"
LOGIN_STATE_COOKIE = "yjs_login_state"


def _set_cookies(response: Response, request: Request, pair: TokenPair) -> None:
    identity = get_identity(request.app.state["platform"])
    secure = identity.cookie_secure
    response.set_cookie(
        ACCESS_COOKIE,
        pair.access_token,
        max_age=pair.expires_in,
        httponly=True,
        samesite="lax",
        secure=secure,
        path="/",
    )
    if pair.refresh_token:
        response.set_cookie(
            REFRESH_COOKIE,
            pair.refresh_token,
            max_age=identity.config.refresh_ttl_s,
            httponly=True,
            samesite="lax",
            secure=secure,
            path=REFRESH_COOKIE_PATH,
        )
    response.set_cookie(
        CSRF_COOKIE,
        pair.csrf_token,
        max_age=identity.config.refresh_ttl_s,
        httponly=False,
        samesite="lax",
        secure=secure,
        path="/",
    )


def _expire_cookie(response: Response, name: str, path: str, secure: bool) -> None:
    """Remove a cookie with the attributes it was set with: over https every Set-Cookie is Secure."""
    response.set_cookie(name, "", max_age=0, expires=0, path=path, secure=secure, httponly=True, samesite="lax")


def _clear_cookies(response: Response, secure: bool) -> None:
    _expire_cookie(response, ACCESS_COOKIE, "/", secure)
    _expire_cookie(response, REFRESH_COOKIE, REFRESH_COOKIE_PATH, secure)
    _expire_cookie(response, CSRF_COOKIE, "/", secure)


def _double_submit_ok(request: Request) -> bool:
    cookie = request.cookies.get(CSRF_COOKIE, "")
    header = request.headers.get(CSRF_HEADER.lower(), "")
    return bool(cookie) and bool(header) and secrets.compare_digest(cookie, header)


# ---- login and session ------------------------------------------------------------------------------


@get("/auth/login", summary="Start login (OIDC, authorization code + PKCE)", tags=["auth"])
async def login(platform: PlatformDep, return_to: FromQuery[str | None] = None) -> Redirect:
    """Redirect to the identity provider with state, nonce and a PKCE challenge."""
    identity = get_identity(platform)
    url, state = await start_login(identity, return_to)
    response = Redirect(url, status_code=302, headers={"Cache-Control": "no-store"})
    response.set_cookie(
        LOGIN_STATE_COOKIE,
        state,
        max_age=identity.config.login_ttl_s,
        httponly=True,
        samesite="lax",
        secure=identity.cookie_secure,
        path=REFRESH_COOKIE_PATH,
    )
    return response


@get("/auth/callback", summary="Login callback", tags=["auth"])
async def callback(
    request: Request,
    platform: PlatformDep,
    code: FromQuery[str | None] = None,
    oidc_state: Annotated[str | None, QueryParameter(name="state")] = None,
    error: FromQuery[str | None] = None,
) -> Response:
    """Exchange the code, validate the ID token, start a session (cookies) and go back."""
    state = oidc_state
    if error or not code or not state:
        raise ProblemError(400, "login_failed", f"登录未完成（{error or '缺少授权码'}）。 Login did not complete.")
    bound = request.cookies.get(LOGIN_STATE_COOKIE, "")
    if not bound or not secrets.compare_digest(bound, state):
        raise ProblemError(
            400, "login_failed", "登录请求与本浏览器不符，请重新登录。 The login was not started in this browser."
        )
    identity = get_identity(platform)
    principal, return_to = await finish_login(identity, code, state)
    pair = await issue_session(identity, principal, "web")
    response: Response = Redirect(return_to, status_code=302, headers={"Cache-Control": "no-store"})
    _set_cookies(response, request, pair)
    _expire_cookie(response, LOGIN_STATE_COOKIE, REFRESH_COOKIE_PATH, identity.cookie_secure)
    return response


class RefreshRequest(msgspec.Struct):
    refresh_token: str


class CookieSession(msgspec.Struct):
    expires_in: int
    csrf_token: str


@post("/auth/refresh", status_code=200, summary="Refresh the session (rotating refresh token)", tags=["auth"])
async def refresh(request: Request, platform: PlatformDep) -> Response:
    """Scripts send ``{"refresh_token"}`` and get new tokens; browsers use the cookie plus ``X-CSRF-Token``."""
    identity = get_identity(platform)
    body = await request.body()
    if body.strip():
        try:
            data = jsonbody.decode(body, type=RefreshRequest)
        except msgspec.DecodeError as exc:
            raise ProblemError(
                400, "validation_failed", "需要 refresh_token。 refresh_token is required.", field="refresh_token"
            ) from exc
        return Response(await refresh_session(identity, data.refresh_token), headers={"Cache-Control": "no-store"})
    token = request.cookies.get(REFRESH_COOKIE)
    if not token:
        raise unauthenticated("请先登录。 No refresh token.")
    if not _double_submit_ok(request):
        raise ProblemError(403, "csrf_failed", "请求缺少有效的防伪令牌（X-CSRF-Token）。 Missing or wrong CSRF token.")
    pair = await refresh_session(identity, token)
    response = Response(
        CookieSession(expires_in=pair.expires_in, csrf_token=pair.csrf_token), headers={"Cache-Control": "no-store"}
    )
    _set_cookies(response, request, pair)
    return response


@post("/auth/logout", status_code=200, summary="Log out", tags=["auth"])
async def logout(request: Request, platform: PlatformDep) -> Response:
    """End the session (its refresh tokens are revoked) and clear the cookies."""
    identity = get_identity(platform)
    sid = None
    try:
        principal = await resolve_principal(request)
        sid = principal.session_id if principal else None
    except ProblemError as exc:
        if exc.code == "csrf_failed":
            raise
    if sid is None:
        token = request.cookies.get(REFRESH_COOKIE)
        if token:
            if not _double_submit_ok(request):
                raise ProblemError(
                    403, "csrf_failed", "请求缺少有效的防伪令牌（X-CSRF-Token）。 Missing or wrong CSRF token."
                )
            sid = await session_of_refresh(identity, token)
    if sid is None:
        raise unauthenticated()
    await end_session(identity, sid)
    response = Response(None, status_code=204)
    _clear_cookies(response, identity.cookie_secure)
    return response


class TerminalAssertion(msgspec.Struct):
    """A terminal's signed assertion (RFC 7523 style JWT)."""

    assertion: str


@post("/auth/terminal/token", status_code=200, summary="Kiosk terminal token (signed assertion)", tags=["auth"])
async def terminal_token(platform: PlatformDep, data: JSONBody[TerminalAssertion]) -> TokenPair:
    """A terminal proves itself with its own key and gets a short access token (no refresh)."""
    return await terminals.terminal_token(platform, data.assertion)


# ---- who am I ----------------------------------------------------------------------------------------


class Me(msgspec.Struct, kw_only=True):
    subject: str
    name: str
    roles: list[str]
    auth_method: str
    person_id: str | None = None
    id_number: str | None = None
    phone: str | None = None
    agencies: list[str] = []
    regions: list[str] = []
    hall: str | None = None
    terminal_id: str | None = None
    face_verified_at: int | None = None
    enterprises: list[directory.ActingCapacity] = []


@get("/api/v1/me", summary="Who am I", tags=["identity"])
async def me(platform: PlatformDep, principal: PrincipalDep) -> Me:
    """The caller, their roles and scopes, and the enterprises they may act for (their own data, unmasked)."""
    phone = None
    if principal.person_id:
        try:
            person = await directory.registration_directory(platform).person(principal.person_id)
        except ProblemError:
            person = None
        phone = person.phone if person else None
    return Me(
        subject=principal.subject,
        name=principal.name,
        roles=principal.roles,
        auth_method=principal.auth_method,
        person_id=principal.person_id,
        id_number=principal.id_number,
        phone=phone,
        agencies=principal.agencies,
        regions=principal.regions,
        hall=principal.hall,
        terminal_id=principal.terminal_id,
        face_verified_at=principal.face_verified_at,
        enterprises=await directory.enterprises_for(platform, principal),
    )


class EnterpriseActor(msgspec.Struct, kw_only=True):
    name: str
    role: str
    id_number: str
    is_me: bool


class EnterpriseView(msgspec.Struct, kw_only=True):
    uscc: str
    name: str
    entity_type: str
    region: str
    route: str
    capacity: directory.ActingCapacity
    actors: list[EnterpriseActor]


@get("/api/v1/enterprises/{uscc:str}", summary="An enterprise I may act for", tags=["identity"])
async def enterprise(platform: PlatformDep, principal: PrincipalDep, uscc: FromPath[str]) -> EnterpriseView:
    """The registration record of an enterprise the caller may act for; others' ID numbers are masked."""
    capacity = await directory.require_act_for(platform, principal, uscc)
    record = await directory.registration_directory(platform).enterprise(uscc)
    assert record is not None
    actors = []
    for a in record.parties:
        mine = a.id_number == principal.id_number
        actors.append(
            EnterpriseActor(
                name=a.name,
                role=a.role,
                id_number=a.id_number if mine else mask_id_number(a.id_number) or "",
                is_me=mine,
            )
        )
    return EnterpriseView(
        uscc=record.uscc,
        name=record.name,
        entity_type=record.entity_type,
        region=record.region,
        route=record.route,
        capacity=capacity,
        actors=actors,
    )


@get("/api/v1/enterprises/{uscc:str}/licence", summary="E-licence (电子营业执照)", tags=["identity"])
async def enterprise_licence(platform: PlatformDep, principal: PrincipalDep, uscc: FromPath[str]) -> licence.Licence:
    """The business licence from the e-licence system, for prefilling and waiving the material: for
    whoever may act for the enterprise as a whole; window staff (帮办代办) and administrators; agency
    staff only for enterprises with a case of theirs (``platform.staff_reach_enterprise``). Staff
    reads are audited (``enterprise:<uscc>``)."""
    if not principal.has_role(AGENCY_STAFF, WINDOW_STAFF, ADMIN):
        await directory.require_act_for(platform, principal, uscc)
        return await licence.fetch_licence(platform, uscc)
    uscc = validate_uscc(uscc)
    if not principal.has_role(WINDOW_STAFF, ADMIN) and not (
        platform.staff_reach_enterprise is not None and await platform.staff_reach_enterprise(principal, uscc)
    ):
        raise forbidden("该企业没有由您所在部门办理的申请。 No case of this enterprise is handled by your agency.")
    await audit.audit_access(platform, principal, f"enterprise:{uscc}", "licence")
    return await licence.fetch_licence(platform, uscc)


# ---- mandates ----------------------------------------------------------------------------------------


@post("/api/v1/mandates", status_code=201, summary="Grant a mandate (授权委托)", tags=["identity"])
async def create_mandate(
    platform: PlatformDep, principal: PrincipalDep, data: JSONBody[directory.MandateCreate]
) -> directory.MandateView:
    return await directory.create_mandate(platform, principal, data)


@get("/api/v1/mandates", summary="Mandates I granted or received", tags=["identity"])
async def list_mandates(
    platform: PlatformDep, principal: PrincipalDep, uscc: FromQuery[str | None] = None
) -> list[directory.MandateView]:
    return await directory.list_mandates(platform, principal, uscc)


@post("/api/v1/mandates/{mandate_id:str}/revoke", status_code=200, summary="Revoke a mandate", tags=["identity"])
async def revoke_mandate(
    platform: PlatformDep, principal: PrincipalDep, mandate_id: FromPath[str]
) -> directory.MandateView:
    return await directory.revoke_mandate(platform, principal, mandate_id)


# ---- face verification -------------------------------------------------------------------------------


class FaceStartRequest(msgspec.Struct):
    purpose: face.FacePurpose
    """What the verification is for; a requirement names it (``face_verification.purpose``)."""
    reference: Annotated[str, msgspec.Meta(max_length=100)] = ""


@post("/api/v1/face-verifications", status_code=201, summary="Start face verification (phone)", tags=["identity"])
async def start_face(
    platform: PlatformDep, principal: PrincipalDep, data: JSONBody[FaceStartRequest]
) -> face.FaceStart:
    """Start a verification of the caller; open ``provider_url`` on the phone."""
    require_person(principal)
    return await face.start_face_verification(
        platform,
        principal.person_id or principal.subject,
        data.purpose,
        data.reference,
        name=principal.name,
        id_number=principal.id_number or "",
    )


@get("/api/v1/face-verifications/{verification_id:str}", summary="A face verification of mine", tags=["identity"])
async def get_face(
    platform: PlatformDep, principal: PrincipalDep, verification_id: FromPath[str]
) -> face.FaceVerificationView:
    require_person(principal)
    return await face.get_face_verification(platform, verification_id, principal.person_id)


class SignedCallback(msgspec.Struct):
    """A provider callback: the compact JWS."""

    jws: str


async def _callback_token(request: Request) -> str:
    body = await request.body()
    if request.headers.get("content-type", "").startswith("application/jose"):
        return body.decode("ascii", "replace").strip()
    try:
        return jsonbody.decode(body, type=SignedCallback).jws
    except msgspec.DecodeError as exc:
        raise ProblemError(
            400, "validation_failed", '回调应为 {"jws": ...} 或 application/jose。 Expected a JWS.', field="jws"
        ) from exc


@post(
    "/api/v1/face-verifications/callback",
    status_code=200,
    summary="Face provider callback (signed)",
    tags=["callbacks"],
)
async def face_callback(request: Request, platform: PlatformDep) -> dict[str, str]:
    view = await face.accept_face_result(platform, await _callback_token(request))
    return {"verification_id": view.verification_id, "status": view.status}


# ---- kiosk -------------------------------------------------------------------------------------------


@post(
    "/api/v1/kiosk/sessions",
    status_code=201,
    summary="Start a visitor session at a kiosk (人证比对)",
    tags=["kiosk"],
    guards=[requires(KIOSK_TERMINAL)],
)
async def kiosk_start(
    platform: PlatformDep, principal: PrincipalDep, data: JSONBody[kiosk.KioskSessionStart]
) -> kiosk.KioskSession:
    return await kiosk.start_kiosk_session(platform, principal, data)


@post("/api/v1/kiosk/sessions/end", status_code=204, summary="End the visitor's kiosk session", tags=["kiosk"])
async def kiosk_end(platform: PlatformDep, principal: PrincipalDep) -> None:
    await kiosk.end_kiosk_session(platform, principal)


@post(
    "/api/v1/kiosk/terminals",
    status_code=201,
    summary="Register a kiosk terminal",
    tags=["kiosk"],
    guards=[requires(ADMIN)],
)
async def register_terminal(
    platform: PlatformDep, principal: PrincipalDep, data: JSONBody[terminals.TerminalRegistration]
) -> terminals.TerminalView:
    return await terminals.register_terminal(platform, principal, data)


@get("/api/v1/kiosk/terminals", summary="Kiosk terminals", tags=["kiosk"], guards=[requires(ADMIN)])
async def list_terminals(platform: PlatformDep) -> list[terminals.TerminalView]:
    return await terminals.list_terminals(platform)


@post(
    "/api/v1/kiosk/terminals/{terminal_id:str}/disable",
    status_code=200,
    summary="Disable a kiosk terminal",
    tags=["kiosk"],
    guards=[requires(ADMIN)],
)
async def disable_terminal(
    platform: PlatformDep, principal: PrincipalDep, terminal_id: FromPath[str]
) -> terminals.TerminalView:
    return await terminals.disable_terminal(platform, principal, terminal_id)


# ---- signatures and seals ------------------------------------------------------------------------------


async def _may_read_signing(platform: Platform, principal: Principal, reference: str, action: str) -> None:
    """Signers read what they are asked to sign; staff only what the case's access rule lets them
    read (their agency's cases in their regions; administrators every case), and it is audited."""
    if not principal.has_role(AGENCY_STAFF, WINDOW_STAFF, ADMIN):
        await signing.require_co_signer(platform, principal, reference)
        return
    if platform.case_reader_guard is None:  # no case context: nothing tells staff what they may read
        raise ProblemError(404, "document_not_found", "文件不存在。 No such document.")
    await platform.case_reader_guard(principal, reference, action)


@get("/api/v1/signatures", summary="Signing status of a reference (case)", tags=["identity"])
async def signatures(
    platform: PlatformDep, principal: PrincipalDep, reference: FromQuery[str]
) -> signing.SigningStatus:
    """Who has signed; open to the reference's signers and to staff who may read its case (audited)."""
    await _may_read_signing(platform, principal, reference, "signatures")
    status = await signing.signing_status(platform, reference)
    for doc in status.documents:
        for s in doc.signers:
            if s.person_id != principal.person_id and not principal.has_role(ADMIN):
                s.person_id = "***"
    return status


@get(
    "/api/v1/signing-documents/{document_id:str}",
    summary="A document to sign (PDF)",
    tags=["identity"],
    opt={OPT_FILE_MEDIA_TYPES: ("application/pdf",)},
)
async def signing_document(platform: PlatformDep, principal: PrincipalDep, document_id: FromPath[str]) -> Response:
    row = await signing.signing_document(platform, document_id)
    await _may_read_signing(platform, principal, row.reference, "application_pdf")
    return Response(
        bytes(row.content),
        media_type=row.media_type,
        headers={"X-Content-SHA256": row.sha256, "Cache-Control": "private, no-store"},
    )


@post("/api/v1/signatures/callback", status_code=200, summary="Signing provider callback (signed)", tags=["callbacks"])
async def signature_callback(request: Request, platform: PlatformDep) -> signing.SignerStatus:
    return await signing.accept_signature(platform, await _callback_token(request))


class SealCheck(msgspec.Struct):
    document_base64: str
    seal: str


@post("/api/v1/seals/verify", status_code=200, summary="Verify an e-seal (电子印章验证)", tags=["identity"])
async def seal_verify(
    platform: PlatformDep, principal: PrincipalDep, data: JSONBody[SealCheck]
) -> signing.SealVerification:
    try:
        document = base64.b64decode(data.document_base64, validate=True)
    except (binascii.Error, ValueError) as exc:
        raise ProblemError(
            422, "validation_failed", "文件须为 base64。 document_base64 must be base64.", field="document_base64"
        ) from exc
    return await signing.verify_seal(platform, document, data.seal)


# ---- audit -------------------------------------------------------------------------------------------


@get("/api/v1/audit/access", summary="Staff access to cases (audit)", tags=["identity"], guards=[requires(ADMIN)])
async def access_audit(
    platform: PlatformDep, case_id: FromQuery[str | None] = None, subject: FromQuery[str | None] = None
) -> list[audit.AccessRecord]:
    return await audit.access_records(platform, case_id, subject)


# 60 requests a minute per client on the sign-in routes (and the sandbox's token route): enough for
# a person and for a kiosk's queue, too few to guess codes or tokens (tests/security/test_rate_limits.py).
AUTH_RATE_LIMIT = RateLimitConfig(
    rate_limit=("minute", 60), store="identity_auth_rate_limit", middleware_class=SharedRateLimitMiddleware
)

ROUTES: list[Any] = [
    Router(
        path="/",
        route_handlers=[login, callback, refresh, logout, terminal_token],
        middleware=[AUTH_RATE_LIMIT.middleware],
        dependencies=ROUTER_DEPENDENCIES,
        tags=["auth"],
    ),
    Router(
        path="/",
        route_handlers=[
            me,
            enterprise,
            enterprise_licence,
            create_mandate,
            list_mandates,
            revoke_mandate,
            start_face,
            get_face,
            face_callback,
            kiosk_start,
            kiosk_end,
            register_terminal,
            list_terminals,
            disable_terminal,
            signatures,
            signing_document,
            signature_callback,
            seal_verify,
            access_audit,
        ],
        dependencies=ROUTER_DEPENDENCIES,
    ),
]

__all__ = ["AUTH_RATE_LIMIT", "ROUTES"]
