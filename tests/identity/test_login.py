"""Login (OIDC code + PKCE) end to end against the sandbox provider, sessions, refresh, CSRF, rate limit."""

from __future__ import annotations

import re
from html import unescape
from urllib.parse import parse_qs, urlsplit

import httpx
from joserfc import jwt
from joserfc.jwk import ECKey

from backend.identity.config import PLATFORM_KEY, get_identity
from backend.lib.validators import make_id_number
from tests.identity.conftest import bearer, token_for

LEGAL_REP = "applicant-p002"  # 林晓燕, legal representative of 91350102MA0102003U
USCC = "91350102MA0102003U"


def _form_for(page: str, persona: str) -> dict[str, str]:
    """The hidden fields of the persona's form on the picker page (as a browser would submit them)."""
    forms = re.findall(r"<form method=\"post\" action=\"/sandbox/oidc/authorize\">(.*?)</form>", page, re.S)
    for form in forms:
        fields = dict(re.findall(r'<input type="hidden" name="([^"]+)" value="([^"]*)">', form))
        if fields.get("persona") == persona:
            return {k: unescape(v) for k, v in fields.items()}
    raise AssertionError(f"persona {persona} not on the page")


async def _browser_login(client: httpx.AsyncClient, persona: str, return_to: str = "/cases") -> httpx.Response:
    start = await client.get("/auth/login", params={"return_to": return_to})
    assert start.status_code == 302
    authorize = start.headers["location"]
    query = parse_qs(urlsplit(authorize).query)
    assert query["code_challenge_method"] == ["S256"] and query["state"] and query["nonce"]
    picker = await client.get(authorize)
    assert picker.status_code == 200 and 'lang="zh-CN"' in picker.text and "<script" not in picker.text
    chosen = await client.post("/sandbox/oidc/authorize", data=_form_for(picker.text, persona))
    assert chosen.status_code == 303
    back = await client.get(chosen.headers["location"])
    return back


async def test_login_end_to_end_over_http(live_server):
    """Browser flow: login → persona picker → callback → cookies → /me; CSRF; refresh; logout."""
    async with httpx.AsyncClient(base_url=live_server.url, timeout=20) as browser:
        back = await _browser_login(browser, LEGAL_REP)
        assert back.status_code == 302, back.text
        assert back.headers["location"] == "/cases"
        cookies = back.headers.get_list("set-cookie")
        access_cookie = next(c for c in cookies if c.startswith("yjs_access="))
        assert "HttpOnly" in access_cookie and "SameSite=lax" in access_cookie.replace("Lax", "lax")
        csrf = browser.cookies.get("yjs_csrf")
        assert csrf

        me = await browser.get("/api/v1/me")
        assert me.status_code == 200, me.text
        body = me.json()
        assert body["name"] == "林晓燕" and body["auth_method"] == "oidc" and body["roles"] == ["applicant"]
        assert body["id_number"] == "350102196602040372"  # one's own number is shown in full
        assert USCC in [e["uscc"] for e in body["enterprises"]]

        grant = {
            "uscc": USCC,
            "agent_id_number": make_id_number("350102", "19900101", "123"),
            "agent_name": "测试经办人",
        }
        refused = await browser.post("/api/v1/mandates", json=grant)
        assert refused.status_code == 403 and refused.json()["code"] == "csrf_failed"
        wrong = await browser.post("/api/v1/mandates", json=grant, headers={"X-CSRF-Token": "not-the-token"})
        assert wrong.status_code == 403 and wrong.json()["code"] == "csrf_failed"
        ok = await browser.post("/api/v1/mandates", json=grant, headers={"X-CSRF-Token": csrf})
        assert ok.status_code == 201, ok.text

        no_csrf_refresh = await browser.post("/auth/refresh")
        assert no_csrf_refresh.status_code == 403
        refreshed = await browser.post("/auth/refresh", headers={"X-CSRF-Token": csrf})
        assert refreshed.status_code == 200, refreshed.text
        new_csrf = refreshed.json()["csrf_token"]
        assert new_csrf != csrf and browser.cookies.get("yjs_csrf") == new_csrf
        assert (await browser.get("/api/v1/me")).status_code == 200

        out = await browser.post("/auth/logout", headers={"X-CSRF-Token": new_csrf})
        assert out.status_code == 204
        assert (await browser.get("/api/v1/me")).status_code == 401


async def test_callback_refuses_unknown_state_and_reused_code(any_api):
    start = await any_api.get("/auth/login")
    authorize = start.headers["location"]
    picker = await any_api.get(authorize)
    chosen = await any_api.post("/sandbox/oidc/authorize", data=_form_for(picker.text, LEGAL_REP))
    query = parse_qs(urlsplit(chosen.headers["location"]).query)
    code, state = query["code"][0], query["state"][0]

    forged_state = await any_api.get("/auth/callback", params={"code": code, "state": "forged"})
    assert forged_state.status_code == 400 and forged_state.json()["code"] == "login_failed"
    bound = any_api.cookies.get("yjs_login_state")
    assert bound == state
    any_api.cookies.clear()  # another browser (login CSRF: a callback URL made by someone else)
    other_browser = await any_api.get("/auth/callback", params={"code": code, "state": state})
    assert other_browser.status_code == 400 and "浏览器" in other_browser.json()["detail"]
    any_api.cookies.set("yjs_login_state", bound, domain="testserver.local", path="/auth")
    ok = await any_api.get("/auth/callback", params={"code": code, "state": state})
    assert ok.status_code == 302
    again = await any_api.get("/auth/callback", params={"code": code, "state": state})
    assert again.status_code == 400  # state consumed once


async def test_token_endpoint_checks_pkce_client_and_single_use(any_api):
    start = await any_api.get("/auth/login")
    authorize = start.headers["location"]
    picker = await any_api.get(authorize)
    chosen = await any_api.post("/sandbox/oidc/authorize", data=_form_for(picker.text, LEGAL_REP))
    code = parse_qs(urlsplit(chosen.headers["location"]).query)["code"][0]
    identity = get_identity(any_api.platform)
    form = {
        "grant_type": "authorization_code",
        "code": code,
        "redirect_uri": identity.redirect_uri,
        "code_verifier": "x" * 64,
    }
    auth = (identity.config.oidc_client_id, identity.config.oidc_client_secret)
    wrong_verifier = await any_api.post("/sandbox/oidc/token", data=form, auth=auth)
    assert wrong_verifier.status_code == 400 and wrong_verifier.json()["error"] == "invalid_grant"
    bad_client = await any_api.post("/sandbox/oidc/token", data=form, auth=(identity.config.oidc_client_id, "wrong"))
    assert bad_client.status_code == 401 and bad_client.json()["error"] == "invalid_client"


async def test_authorize_requires_pkce_and_registered_redirect(any_api):
    identity = get_identity(any_api.platform)
    base = {
        "client_id": identity.config.oidc_client_id,
        "redirect_uri": identity.redirect_uri,
        "response_type": "code",
        "scope": "openid",
        "state": "s",
        "nonce": "n",
    }
    no_pkce = await any_api.get("/sandbox/oidc/authorize", params=base)
    assert no_pkce.status_code == 400
    evil = await any_api.get(
        "/sandbox/oidc/authorize",
        params={
            **base,
            "redirect_uri": "https://evil.example/cb",
            "code_challenge": "a" * 43,
            "code_challenge_method": "S256",
        },
    )
    assert evil.status_code == 400


async def test_open_redirect_is_refused(any_api):
    start = await any_api.get("/auth/login", params={"return_to": "//evil.example/x"})
    picker = await any_api.get(start.headers["location"])
    chosen = await any_api.post("/sandbox/oidc/authorize", data=_form_for(picker.text, LEGAL_REP))
    back = await any_api.get(chosen.headers["location"])
    assert back.status_code == 302 and back.headers["location"] == "/"


async def test_missing_expired_and_forged_tokens_are_401(api, clock):
    missing = await api.get("/api/v1/me")
    assert missing.status_code == 401 and missing.json()["code"] == "unauthenticated"
    assert missing.headers["content-type"].startswith("application/problem+json")

    tokens = await token_for(api, LEGAL_REP)
    identity = get_identity(api.platform)
    real_kid = identity.signing_key(PLATFORM_KEY).kid
    claims = jwt.decode(tokens["access_token"], identity.signing_key(PLATFORM_KEY)).claims
    other = ECKey.generate_key("P-256", parameters={"kid": real_kid}, private=True)
    forged = jwt.encode(
        {"alg": "ES256", "kid": real_kid, "typ": "at+jwt"},
        {**claims, "pr": {**claims["pr"], "roles": ["admin"]}},
        other,
    )
    assert (await api.get("/api/v1/me", headers={"Authorization": f"Bearer {forged}"})).status_code == 401
    assert (await api.get("/api/v1/me", headers={"Authorization": "Bearer not.a.jwt"})).status_code == 401

    assert (await api.get("/api/v1/me", headers=bearer(tokens))).status_code == 200
    clock.advance(identity.config.access_ttl_s + 1)
    expired = await api.get("/api/v1/me", headers=bearer(tokens))
    assert expired.status_code == 401 and "过期" in expired.json()["detail"]


async def test_refresh_rotates_and_reuse_ends_the_session(any_api):
    tokens = await token_for(any_api, LEGAL_REP)
    first = await any_api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert first.status_code == 200, first.text
    rotated = first.json()
    assert rotated["refresh_token"] != tokens["refresh_token"]
    assert (await any_api.get("/api/v1/me", headers=bearer(rotated))).status_code == 200

    reuse = await any_api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})
    assert reuse.status_code == 401
    # the leak revoked the whole session: the newer refresh token is dead too
    assert (await any_api.post("/auth/refresh", json={"refresh_token": rotated["refresh_token"]})).status_code == 401


async def test_logout_revokes_refresh(any_api):
    tokens = await token_for(any_api, LEGAL_REP)
    assert (await any_api.post("/auth/logout", headers=bearer(tokens))).status_code == 204
    assert (await any_api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})).status_code == 401


async def test_refresh_after_expiry_fails(api, clock):
    tokens = await token_for(api, LEGAL_REP)
    clock.advance(get_identity(api.platform).config.refresh_ttl_s + 1)
    assert (await api.post("/auth/refresh", json={"refresh_token": tokens["refresh_token"]})).status_code == 401


async def test_sandbox_token_rate_limited(api):
    statuses = []
    for _ in range(61):
        statuses.append((await api.post("/sandbox/token", json={"persona": "admin-platform"})).status_code)
    assert statuses[:60] == [200] * 60
    assert statuses[60] == 429


async def test_auth_routes_rate_limited(any_api):
    statuses = [(await any_api.post("/auth/refresh", json={"refresh_token": "nope"})).status_code for _ in range(61)]
    assert set(statuses[:60]) == {401} and statuses[60] == 429


async def test_unknown_persona(any_api):
    response = await any_api.post("/sandbox/token", json={"persona": "nobody"})
    assert response.status_code == 404 and response.json()["code"] == "persona_not_found"


async def test_discovery_and_userinfo(any_api):
    meta = (await any_api.get("/sandbox/oidc/.well-known/openid-configuration")).json()
    assert meta["code_challenge_methods_supported"] == ["S256"]
    jwks = (await any_api.get("/sandbox/oidc/jwks")).json()
    assert jwks["keys"] and all("d" not in k for k in jwks["keys"])  # public halves only
