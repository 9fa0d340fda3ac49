"""The test environment's identity-side providers (only registered when the test environment is on).

- ``/sandbox/oidc``: a minimal OpenID Connect provider (discovery, JWKS, authorization code
  with PKCE S256, token, userinfo) with a persona-picker page;
- ``POST /sandbox/token``: a platform session for a persona, through the same claims mapping
  and session machinery as a real login (for scripts and tests);
- ``/sandbox/face``: face verification pages (approve / deny) and kiosk frame comparison;
- ``/sandbox/sign``: the e-signature provider's signing page;
- ``/sandbox/seal``: the e-seal provider (seals a document hash);
- ``/sandbox/licence``: the e-licence provider over the fixture dataset.

Each provider signs with its own key and publishes its JWKS; the platform verifies them
exactly as it would verify a real provider. Results are delivered to the platform's
callback service in-process (a real provider would POST them to the callback URL).
"""

from __future__ import annotations

import base64
import hashlib
import html
import secrets
from typing import Any
from urllib.parse import urlencode

import msgspec
from litestar import Request, Response, Router, get, post
from litestar.connection import ASGIConnection
from litestar.handlers.base import BaseRouteHandler
from litestar.middleware.rate_limit import RateLimitConfig
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect

from backend.db import writing_transaction
from backend.identity.config import (
    SANDBOX_CLIENT_ID,
    SANDBOX_FACE_KEY,
    SANDBOX_LICENCE_KEY,
    SANDBOX_OIDC_KEY,
    SANDBOX_SEAL_KEY,
    SANDBOX_SIGN_KEY,
    Identity,
    KeySource,
    get_identity,
    public_keyset,
)
from backend.identity.face import FACE_RESULT_TYP, accept_face_result, face_provider_base
from backend.identity.licence import LICENCE_TYP, licence_provider_base
from backend.identity.personas import find_persona, persona_claims, principal_from_claims, sandbox_personas
from backend.identity.principal import ROUTER_DEPENDENCIES, TokenPair, new_id, sha256_hex
from backend.identity.ratelimit import SharedRateLimitMiddleware
from backend.identity.sessions import issue_session
from backend.identity.signed import consume_jti, sign_message, verify_message
from backend.identity.signing import SEAL_TYP, SIGNATURE_TYP, accept_signature, seal_provider_issuer, sign_provider_base
from backend.lib.problems import ProblemError
from backend.platform import Platform

CODE_TYP = "sandbox-code+jwt"
PROVIDER_AT_TYP = "at+jwt"
CALLBACK_TTL_S = 120
#: Kiosk frames whose bytes contain this marker fail the sandbox comparison (deterministic outcomes).
MISMATCH_MARKER = b"mismatch"


def sandbox_issuer(identity: Identity) -> str:
    return f"{identity.base_url}/sandbox/oidc"


def relying_party(identity: Identity) -> str:
    """The platform the providers' results are for (``SANDBOX_RELYING_PARTY_URL``, else this one)."""
    return identity.config.relying_party_url or identity.base_url


async def deliver(identity: Identity, path: str, token: str, accept) -> Any:
    """Hand a signed result to the platform: POST it to its callback ``path`` when the providers run
    on their own (as a real provider does), else ``accept(platform, token)`` in this process."""
    if not identity.config.relying_party_url:
        return await accept(identity.platform, token)
    async with identity.http() as client:
        response = await client.post(
            identity.config.relying_party_url + path, content=token, headers={"Content-Type": "application/jose"}
        )
    if response.status_code >= 400:
        body = response.json() if "json" in response.headers.get("content-type", "") else {}
        raise ProblemError(response.status_code, body.get("code", "callback_refused"), body.get("detail"))
    return msgspec.json.decode(response.content)


def _identity(request: Request) -> Identity:
    return get_identity(request.app.state["platform"])


def test_env_only(connection: ASGIConnection, _: BaseRouteHandler) -> None:
    """Guard: sandbox providers answer only while the test environment is on."""
    if not connection.app.state["platform"].settings.test_env_enabled:
        raise ProblemError(404, "not_found", "测试环境未开启。 The test environment is off.")


def _oauth_error(error: str, description: str, status: int = 400) -> Response:
    return Response(
        {"error": error, "error_description": description}, status_code=status, headers={"Cache-Control": "no-store"}
    )


def _page(title: str, body: str, status: int = 200) -> Response:
    doc = f"""<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>{html.escape(title)}（测试环境）</title>
<style>
body{{font-family:system-ui,"PingFang SC","Microsoft YaHei",sans-serif;margin:0;background:#f3f2f1;color:#0b0c0c;\
font-size:1.125rem;line-height:1.5}}
header{{background:#8a1f11;color:#fff;padding:.75rem 1rem}} main{{max-width:48rem;margin:0 auto;padding:1rem}}
button{{font:inherit;min-height:48px;min-width:48px;padding:.5rem 1rem;margin:.25rem 0;border:2px solid #0b0c0c;\
background:#fff;cursor:pointer;text-align:left;width:100%}}
button.primary{{background:#00703c;color:#fff;border-color:#00703c}} button:focus{{outline:3px solid #fd0;\
outline-offset:0}}
input{{font:inherit;min-height:44px;width:100%}} ul{{list-style:none;padding:0}} li{{margin:.5rem 0}} \
code{{word-break:break-all}} .hint{{color:#505a5f;font-size:1rem}}
</style></head><body><header>测试环境 · 仅用于联调测试 / Test environment only</header>
<main id="main"><h1>{html.escape(title)}</h1>{body}</main></body></html>"""
    return Response(doc, media_type="text/html", status_code=status, headers={"Cache-Control": "no-store"})


# ---- OpenID Connect provider ------------------------------------------------------------------


def _wants_json(request: Request) -> bool:
    """A script asked for the page (``Accept: application/json``) rather than a browser."""
    return "application/json" in request.headers.get("accept", "")


def _choices(title: str, action: str, fields: dict[str, str], choice: str, choices: list[dict[str, Any]]) -> Response:
    """A provider page for scripts: what the page offers and how to post a choice, as JSON.

    Post ``fields`` plus ``{choice: one of choices[].value}`` form-encoded to ``post.url``; with
    ``Accept: application/json`` the result page answers JSON too (the OIDC picker answers 303 with
    the code in ``Location``, as for a browser)."""
    return Response(
        {
            "page": title,
            "post": {"url": action, "method": "POST", "content_type": "application/x-www-form-urlencoded"},
            "fields": fields,
            "choice": choice,
            "choices": choices,
        },
        headers={"Cache-Control": "no-store"},
    )


@get("/sandbox/oidc/.well-known/openid-configuration", sync_to_thread=False, summary="Sandbox OIDC discovery")
def oidc_discovery(request: Request) -> dict[str, Any]:
    issuer = sandbox_issuer(_identity(request))
    return {
        "issuer": issuer,
        "authorization_endpoint": f"{issuer}/authorize",
        "token_endpoint": f"{issuer}/token",
        "userinfo_endpoint": f"{issuer}/userinfo",
        "jwks_uri": f"{issuer}/jwks",
        "response_types_supported": ["code"],
        "grant_types_supported": ["authorization_code"],
        "subject_types_supported": ["public"],
        "id_token_signing_alg_values_supported": ["ES256"],
        "code_challenge_methods_supported": ["S256"],
        "token_endpoint_auth_methods_supported": ["client_secret_basic", "client_secret_post"],
        "scopes_supported": ["openid", "profile"],
        "claims_supported": [
            "sub",
            "name",
            "id_number",
            "phone_number",
            "roles",
            "agencies",
            "regions",
            "hall",
            "terminal_id",
            "persona",
        ],
    }


def _jwks(identity: Identity, name: str) -> dict[str, Any]:
    return dict(identity.accepted_keys(name).as_dict(private=False))


@get("/sandbox/oidc/jwks", sync_to_thread=False)
def oidc_jwks(request: Request) -> dict[str, Any]:
    return _jwks(_identity(request), SANDBOX_OIDC_KEY)


_KIND_LABELS = {
    "applicant": "申请人（法定代表人、投资人、清算组成员、经办人）",
    "staff": "部门工作人员",
    "window": "窗口工作人员",
    "admin": "平台管理员",
    "tester": "测试人员",
    "kiosk": "自助终端",
}


def _check_authorize_params(identity: Identity, params: dict[str, str]) -> str | None:
    if params.get("client_id") != identity.config.oidc_client_id and params.get("client_id") != SANDBOX_CLIENT_ID:
        return "unknown client_id"
    if params.get("redirect_uri") != identity.redirect_uri:
        return "redirect_uri is not registered"
    if params.get("response_type") != "code":
        return "response_type must be code"
    if "openid" not in (params.get("scope") or "").split():
        return "scope must include openid"
    if params.get("code_challenge_method") != "S256" or len(params.get("code_challenge") or "") < 43:
        return "PKCE with S256 is required"
    return None


_AUTH_FIELDS = (
    "client_id",
    "redirect_uri",
    "response_type",
    "scope",
    "state",
    "nonce",
    "code_challenge",
    "code_challenge_method",
)


@get("/sandbox/oidc/authorize", sync_to_thread=False)
def oidc_authorize_page(request: Request) -> Response:
    """The persona picker (zh-CN, no scripts, one button per persona)."""
    identity = _identity(request)
    params = {k: request.query_params.get(k, "") for k in _AUTH_FIELDS}
    problem = _check_authorize_params(identity, params)
    if problem and _wants_json(request):
        return _oauth_error("invalid_request", problem)
    if problem:
        return _page("登录请求无效", f"<p>{html.escape(problem)}</p>", 400)
    if _wants_json(request):
        personas = [
            {"value": p.id, "label": p.name, "kind": p.kind, "description": p.description} for p in sandbox_personas()
        ]
        # any fixture person may also log in by their id (the page's free-text field): person-P005 …
        return _choices("统一身份认证（测试）", "/sandbox/oidc/authorize", params, "persona", personas)
    hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in params.items())
    groups: dict[str, list[str]] = {}
    for p in sandbox_personas():
        groups.setdefault(p.kind, []).append(
            f'<li><form method="post" action="/sandbox/oidc/authorize">{hidden}'
            f'<input type="hidden" name="persona" value="{html.escape(p.id)}">'
            f'<button type="submit" data-testid="persona-{html.escape(p.id)}"><strong>{html.escape(p.name)}</strong>'
            f'<br><span class="hint">{html.escape(p.description)}</span></button></form></li>'
        )
    body = "<p>请选择要登录的测试身份。这些身份均为合成数据。</p>"
    for kind, items in groups.items():
        body += f"<h2>{html.escape(_KIND_LABELS.get(kind, kind))}</h2><ul>{''.join(items)}</ul>"
    body += (
        f'<h2>其他测试自然人</h2><form method="post" action="/sandbox/oidc/authorize">{hidden}'
        '<label for="persona-id">人员编号（如 person-P005）</label><br><input id="persona-id" name="persona" required>'
        '<button type="submit" class="primary">登录</button></form>'
    )
    return _page("统一身份认证（测试）", body)


@post("/sandbox/oidc/authorize", status_code=303)
async def oidc_authorize_submit(request: Request) -> Response:
    """The tester picked a persona: redirect back with a one-time code."""
    identity = _identity(request)
    form = await request.form()
    params = {k: str(form.get(k, "")) for k in _AUTH_FIELDS}
    problem = _check_authorize_params(identity, params)
    if problem and _wants_json(request):
        return _oauth_error("invalid_request", problem)
    if problem:
        return _page("登录请求无效", f"<p>{html.escape(problem)}</p>", 400)
    persona = find_persona(str(form.get("persona", "")).strip())
    if persona is None and _wants_json(request):
        return _oauth_error("unknown_persona", "未找到该测试身份。 No such persona.")
    if persona is None:
        return _page("未找到该测试身份", "<p>请返回重新选择。</p>", 400)
    now = identity.now_s()
    issuer = sandbox_issuer(identity)
    code = sign_message(
        identity,
        SANDBOX_OIDC_KEY,
        {
            "iss": issuer,
            "aud": issuer,
            "iat": now,
            "exp": now + 60,
            "jti": new_id(),
            "persona": persona.id,
            "client_id": params["client_id"],
            "redirect_uri": params["redirect_uri"],
            "code_challenge": params["code_challenge"],
            "nonce": params["nonce"],
        },
        CODE_TYP,
    )
    query = urlencode({"code": code, "state": params["state"]})
    return Redirect(f"{params['redirect_uri']}?{query}", status_code=303)


def _client_credentials(request: Request, form: dict[str, str]) -> tuple[str, str]:
    header = request.headers.get("authorization", "")
    if header.lower().startswith("basic "):
        try:
            raw = base64.b64decode(header[6:]).decode()
            client_id, _, secret = raw.partition(":")
            from urllib.parse import unquote_plus

            return unquote_plus(client_id), unquote_plus(secret)
        except Exception:
            return "", ""
    return form.get("client_id", ""), form.get("client_secret", "")


@post("/sandbox/oidc/token", status_code=200)
async def oidc_token(request: Request) -> Response:
    """Authorization code grant with PKCE (S256) verification; codes are single-use."""
    identity = _identity(request)
    form = {k: str(v) for k, v in (await request.form()).items()}
    client_id, secret = _client_credentials(request, form)
    if client_id != identity.config.oidc_client_id or not secrets.compare_digest(
        secret, identity.config.oidc_client_secret
    ):
        return _oauth_error("invalid_client", "client authentication failed", 401)
    if form.get("grant_type") != "authorization_code":
        return _oauth_error("unsupported_grant_type", "only authorization_code")
    issuer = sandbox_issuer(identity)
    source = KeySource(keyset=public_keyset(identity.signing_key(SANDBOX_OIDC_KEY)))
    try:
        code = await verify_message(
            identity, form.get("code", ""), source, issuer=issuer, typ=CODE_TYP, audience=issuer
        )
    except ProblemError:
        return _oauth_error("invalid_grant", "invalid or expired code")
    if code.get("client_id") != client_id or code.get("redirect_uri") != form.get("redirect_uri"):
        return _oauth_error("invalid_grant", "code was issued to another client or redirect_uri")
    verifier = form.get("code_verifier", "")
    challenge = base64.urlsafe_b64encode(hashlib.sha256(verifier.encode()).digest()).rstrip(b"=").decode()
    if not verifier or not secrets.compare_digest(challenge, str(code.get("code_challenge", ""))):
        return _oauth_error("invalid_grant", "PKCE verification failed")
    try:
        async with writing_transaction(identity.platform.engine):
            await consume_jti(identity, issuer + "/code", code["jti"], code["exp"])
    except ProblemError:
        return _oauth_error("invalid_grant", "code already used")
    persona = find_persona(code["persona"])
    if persona is None:
        return _oauth_error("invalid_grant", "unknown persona")
    now = identity.now_s()
    claims = persona_claims(persona)
    id_token = sign_message(
        identity,
        SANDBOX_OIDC_KEY,
        {
            **claims,
            "iss": issuer,
            "aud": client_id,
            "azp": client_id,
            "iat": now,
            "exp": now + 300,
            "auth_time": now,
            "nonce": code.get("nonce", ""),
        },
        "JWT",
    )
    access = sign_message(
        identity,
        SANDBOX_OIDC_KEY,
        {
            "iss": issuer,
            "aud": issuer + "/userinfo",
            "sub": claims["sub"],
            "persona": persona.id,
            "iat": now,
            "exp": now + 300,
            "jti": new_id(),
        },
        PROVIDER_AT_TYP,
    )
    return Response(
        {
            "access_token": access,
            "token_type": "Bearer",
            "expires_in": 300,
            "id_token": id_token,
            "scope": "openid profile",
        },
        headers={"Cache-Control": "no-store", "Pragma": "no-cache"},
    )


@get("/sandbox/oidc/userinfo")
async def oidc_userinfo(request: Request) -> Response:
    identity = _identity(request)
    issuer = sandbox_issuer(identity)
    header = request.headers.get("authorization", "")
    token = header[7:] if header.lower().startswith("bearer ") else ""
    source = KeySource(keyset=public_keyset(identity.signing_key(SANDBOX_OIDC_KEY)))
    try:
        claims = await verify_message(
            identity, token, source, issuer=issuer, typ=PROVIDER_AT_TYP, audience=issuer + "/userinfo"
        )
    except ProblemError:
        return Response(
            {"error": "invalid_token"}, status_code=401, headers={"WWW-Authenticate": 'Bearer error="invalid_token"'}
        )
    persona = find_persona(claims["persona"])
    if persona is None:
        return Response({"error": "invalid_token"}, status_code=401)
    return Response(persona_claims(persona))


# ---- platform tokens for scripts and tests ------------------------------------------------------


class SandboxTokenRequest(msgspec.Struct):
    persona: str


@post("/sandbox/token", status_code=200, summary="Sandbox: a platform token for a persona")
async def sandbox_token(request: Request, data: JSONBody[SandboxTokenRequest]) -> TokenPair:
    """A platform session for a test persona (same claims mapping and session machinery as a login)."""
    identity = _identity(request)
    persona = find_persona(data.persona)
    if persona is None:
        raise ProblemError(404, "persona_not_found", f"没有测试身份 {data.persona}。 Unknown persona.", field="persona")
    principal = principal_from_claims(persona_claims(persona), "sandbox_token")
    return await issue_session(identity, principal, "script")


@get("/sandbox/identity/personas", sync_to_thread=False, summary="Sandbox: personas of the identity provider")
def identity_personas() -> list[dict[str, Any]]:
    """Personas with their roles and scopes (no ID numbers)."""
    out = []
    for p in sandbox_personas():
        claims = {k: v for k, v in p.claims.items() if k not in ("id_number", "phone_number")}
        out.append({"id": p.id, "kind": p.kind, "name": p.name, "description": p.description, **claims})
    return out


# ---- face verification provider -------------------------------------------------------------------


def sandbox_face_result(
    identity: Identity,
    verification_id: str,
    nonce: str,
    result: str,
    *,
    id_number: str = "",
    ttl_s: int = CALLBACK_TTL_S,
    jti: str | None = None,
) -> str:
    """The sandbox face provider's signed result for a verification."""
    now = identity.now_s()
    claims = {
        "iss": face_provider_base(identity),
        "aud": relying_party(identity),
        "iat": now,
        "exp": now + ttl_s,
        "jti": jti or new_id(),
        "verification_id": verification_id,
        "nonce": nonce,
        "result": result,
        "score": 97 if result == "passed" else 31,
        "liveness": result == "passed",
    }
    if id_number:
        claims["subject_id_hash"] = sha256_hex(id_number)
    return sign_message(identity, SANDBOX_FACE_KEY, claims, FACE_RESULT_TYP)


def sandbox_face_frames(
    identity: Identity, verification_id: str, nonce: str, id_number: str, frames: list[bytes]
) -> str:
    """Deterministic 人证比对: passes unless a frame is empty or carries the mismatch marker."""
    ok = bool(frames) and all(f and MISMATCH_MARKER not in f for f in frames)
    return sandbox_face_result(identity, verification_id, nonce, "passed" if ok else "failed", id_number=id_number)


@get("/sandbox/face/jwks", sync_to_thread=False)
def face_jwks(request: Request) -> dict[str, Any]:
    return _jwks(_identity(request), SANDBOX_FACE_KEY)


@get("/sandbox/face/session", sync_to_thread=False)
def face_page(request: Request) -> Response:
    """What the phone shows: who is verified and why, with approve / deny for the tester."""
    q = request.query_params
    vid, nonce = q.get("verification_id", ""), q.get("nonce", "")
    if _wants_json(request):
        choices = [
            {"value": "passed", "label": "模拟人脸识别通过 / Verification passes"},
            {"value": "failed", "label": "模拟人脸识别不通过 / Verification fails"},
        ]
        fields = {"verification_id": vid, "nonce": nonce}
        return _choices("人脸识别（测试）", "/sandbox/face/session", fields, "decision", choices)
    hidden = (
        f'<input type="hidden" name="verification_id" value="{html.escape(vid)}">'
        f'<input type="hidden" name="nonce" value="{html.escape(nonce)}">'
    )
    body = (
        f"<p>核验对象：{html.escape(q.get('name', '') or '（本人）')}</p><p>用途：{html.escape(q.get('purpose', ''))}"
        "</p>"
        '<p class="hint">测试环境不采集人脸，请选择核验结果。</p>'
        f'<form method="post" action="/sandbox/face/session">{hidden}'
        '<input type="hidden" name="decision" value="passed">'
        '<button class="primary" type="submit" data-testid="face-pass">模拟人脸识别通过</button></form>'
        f'<form method="post" action="/sandbox/face/session">{hidden}'
        '<input type="hidden" name="decision" value="failed">'
        '<button type="submit" data-testid="face-fail">模拟人脸识别不通过</button></form>'
    )
    return _page("人脸识别（测试）", body)


@post("/sandbox/face/session", status_code=200)
async def face_decide(request: Request) -> Response:
    """Sign the tester's decision and deliver it to the platform's callback."""
    identity = _identity(request)
    form = await request.form()
    decision = "passed" if form.get("decision") == "passed" else "failed"
    token = sandbox_face_result(identity, str(form.get("verification_id", "")), str(form.get("nonce", "")), decision)
    try:
        view = await deliver(identity, "/api/v1/face-verifications/callback", token, accept_face_result)
        status_of = view.get("status") if isinstance(view, dict) else view.status
        outcome = "通过" if status_of == "passed" else "未通过"
        status = 200
    except ProblemError as exc:
        outcome, status = f"回调被拒绝：{exc.detail}", exc.status
    if _wants_json(request):
        return Response({"result": token, "outcome": outcome}, status_code=status)
    return _page(
        "人脸识别结果（测试）",
        f'<p data-testid="face-outcome">{html.escape(outcome)}</p><p>请返回原页面继续办理。</p>',
        status,
    )


class FramesRequest(msgspec.Struct):
    verification_id: str
    nonce: str
    id_number: str
    frames: list[str]


@post("/sandbox/face/frames", status_code=200)
async def face_frames(request: Request, data: JSONBody[FramesRequest]) -> dict[str, str]:
    """The provider's frame-comparison API (人证比对) as a real provider would expose it."""
    frames = [base64.b64decode(f) for f in data.frames]
    return {"result": sandbox_face_frames(_identity(request), data.verification_id, data.nonce, data.id_number, frames)}


# ---- e-signature provider ----------------------------------------------------------------------------


def sandbox_signature(
    identity: Identity,
    request_id: str,
    signer: str,
    nonce: str,
    sha256: str,
    decision: str = "signed",
    *,
    face_verified: bool = True,
    ttl_s: int = CALLBACK_TTL_S,
    jti: str | None = None,
) -> str:
    """The sandbox signing provider's signed callback."""
    now = identity.now_s()
    claims = {
        "iss": sign_provider_base(identity),
        "aud": relying_party(identity),
        "iat": now,
        "exp": now + ttl_s,
        "jti": jti or new_id(),
        "request_id": request_id,
        "signer": signer,
        "nonce": nonce,
        "document_sha256": sha256,
        "decision": decision,
        "face_verified": face_verified,
        "signed_at": now,
    }
    return sign_message(identity, SANDBOX_SIGN_KEY, claims, SIGNATURE_TYP)


@get("/sandbox/sign/jwks", sync_to_thread=False)
def sign_jwks(request: Request) -> dict[str, Any]:
    return _jwks(_identity(request), SANDBOX_SIGN_KEY)


@get("/sandbox/sign/session", sync_to_thread=False)
def sign_page(request: Request) -> Response:
    """The signer's phone: the document title and hash, face verification, sign or decline."""
    q = request.query_params
    fields = {k: q.get(k, "") for k in ("request_id", "signer", "nonce", "sha256")}
    if _wants_json(request):
        choices = [
            {"value": "signed", "label": "刷脸并签署 / Verify face and sign"},
            {"value": "declined", "label": "拒绝签署 / Decline"},
        ]
        return _choices("电子签名（测试）", "/sandbox/sign/session", fields, "decision", choices)
    hidden = "".join(f'<input type="hidden" name="{k}" value="{html.escape(v)}">' for k, v in fields.items())
    body = (
        f"<p>签署人：{html.escape(q.get('name', ''))}</p><p>文件：{html.escape(q.get('title', ''))}</p>"
        f'<p>文件摘要（SHA-256）：<code data-testid="document-hash">{html.escape(fields["sha256"])}</code></p>'
        '<p class="hint">签署前将进行人脸识别（测试环境模拟）。</p>'
        f'<form method="post" action="/sandbox/sign/session">{hidden}'
        '<input type="hidden" name="decision" value="signed">'
        '<button class="primary" type="submit" data-testid="sign">刷脸并签署</button></form>'
        f'<form method="post" action="/sandbox/sign/session">{hidden}'
        '<input type="hidden" name="decision" value="declined">'
        '<button type="submit" data-testid="decline">拒绝签署</button></form>'
    )
    return _page("电子签名（测试）", body)


@post("/sandbox/sign/session", status_code=200)
async def sign_decide(request: Request) -> Response:
    identity = _identity(request)
    form = await request.form()
    decision = "signed" if form.get("decision") == "signed" else "declined"
    token = sandbox_signature(
        identity,
        str(form.get("request_id", "")),
        str(form.get("signer", "")),
        str(form.get("nonce", "")),
        str(form.get("sha256", "")),
        decision,
    )
    try:
        await deliver(identity, "/api/v1/signatures/callback", token, accept_signature)
        outcome, status = ("已签署" if decision == "signed" else "已拒绝签署"), 200
    except ProblemError as exc:
        outcome, status = f"回调被拒绝：{exc.detail}", exc.status
    if _wants_json(request):
        return Response({"result": token, "outcome": outcome}, status_code=status)
    return _page("电子签名结果（测试）", f'<p data-testid="sign-outcome">{html.escape(outcome)}</p>', status)


# ---- e-seal provider ------------------------------------------------------------------------------------


def sandbox_seal(
    identity: Identity, document_bytes: bytes, holder: str, holder_uscc: str = "", seal_id: str = ""
) -> str:
    """The sandbox e-seal provider's seal over a document's SHA-256 (for simulated agency results)."""
    now = identity.now_s()
    claims = {
        "iss": seal_provider_issuer(identity),
        "iat": now,
        "jti": new_id(),
        "sha256": hashlib.sha256(document_bytes).hexdigest(),
        "holder": holder,
        "holder_uscc": holder_uscc,
        "seal_id": seal_id or f"SEAL-{sha256_hex(holder)[:12].upper()}",
    }
    return sign_message(identity, SANDBOX_SEAL_KEY, claims, SEAL_TYP)


def seal_for_platform(platform: Platform, document_bytes: bytes, holder: str, holder_uscc: str = "") -> str:
    """``sandbox_seal`` for simulators holding a platform."""
    return sandbox_seal(get_identity(platform), document_bytes, holder, holder_uscc)


class SealRequest(msgspec.Struct):
    document_base64: str
    holder: str
    holder_uscc: str = ""


@get("/sandbox/seal/jwks", sync_to_thread=False)
def seal_jwks(request: Request) -> dict[str, Any]:
    return _jwks(_identity(request), SANDBOX_SEAL_KEY)


@post("/sandbox/seal", status_code=200, sync_to_thread=False)
def seal_document(request: Request, data: JSONBody[SealRequest]) -> dict[str, str]:
    """Seal a document (the simulated agencies' e-seal service)."""
    document = base64.b64decode(data.document_base64)
    return {
        "seal": sandbox_seal(_identity(request), document, data.holder, data.holder_uscc),
        "sha256": hashlib.sha256(document).hexdigest(),
    }


# ---- e-licence provider -----------------------------------------------------------------------------------

_ENTITY_LABELS = {
    "company": "有限责任公司",
    "individual": "个体工商户",
    "partnership": "合伙企业",
    "sole": "个人独资企业",
    "coop": "农民专业合作社",
    "foreign": "外国企业常驻代表机构",
}


@get("/sandbox/licence/jwks", sync_to_thread=False)
def licence_jwks(request: Request) -> dict[str, Any]:
    return _jwks(_identity(request), SANDBOX_LICENCE_KEY)


@get("/sandbox/licence/{uscc:str}", sync_to_thread=False)
def licence_of(request: Request, uscc: FromPath[str]) -> Response:
    """The business licence (营业执照) of a fixture enterprise, signed by the e-licence provider."""
    from backend.sandbox.fixtures import load_fixtures

    identity = _identity(request)
    data = load_fixtures()
    enterprise = data.enterprise(uscc)
    if enterprise is None:
        return Response({"error": "not_found"}, status_code=404)
    legal = next((a for a in enterprise.actors if a.role in ("legal_rep", "operator", "branch_head")), None)
    person = data.person(legal.person_id) if legal else None
    now = identity.now_s()
    licence = {
        "uscc": enterprise.uscc,
        "name": enterprise.name,
        "entity_type": enterprise.entity_type,
        "region": enterprise.region,
        "legal_representative": person.name if person else "",
        "licence_no": f"LIC-{enterprise.uscc}",
        "issued_by": "福建省市场监督管理局（测试）",
    }
    token = sign_message(
        identity,
        SANDBOX_LICENCE_KEY,
        {
            "iss": licence_provider_base(identity),
            "aud": identity.base_url,
            "iat": now,
            "exp": now + CALLBACK_TTL_S,
            "jti": new_id(),
            "licence": licence,
        },
        LICENCE_TYP,
    )
    return Response({"licence": token})


SANDBOX_TOKEN_RATE_LIMIT = RateLimitConfig(
    rate_limit=("minute", 60), store="identity_sandbox_rate_limit", middleware_class=SharedRateLimitMiddleware
)

SANDBOX_ROUTES: list = [
    Router(
        path="/",
        route_handlers=[
            oidc_discovery,
            oidc_jwks,
            oidc_authorize_page,
            oidc_authorize_submit,
            oidc_token,
            oidc_userinfo,
            identity_personas,
            face_jwks,
            face_page,
            face_decide,
            face_frames,
            sign_jwks,
            sign_page,
            sign_decide,
            seal_jwks,
            seal_document,
            licence_jwks,
            licence_of,
        ],
        guards=[test_env_only],
        dependencies=ROUTER_DEPENDENCIES,
        tags=["sandbox identity"],
        include_in_schema=False,
    ),
    Router(
        path="/",
        route_handlers=[sandbox_token],
        guards=[test_env_only],
        middleware=[SANDBOX_TOKEN_RATE_LIMIT.middleware],
        tags=["sandbox identity"],
    ),
]
