"""Finding 6 (medium): the app itself sent no security headers outside nginx.

No frame-ancestors or X-Frame-Options, no CSP, X-Content-Type-Options or Referrer-Policy, and
no HSTS when ``PUBLIC_URL`` is https. The app now sends them on every response
(``backend.lib.headers``), each page with the strictest CSP it works under. Proven twice: over
HTTP (every kind of response carries them; no page allows inline script) and in Chromium (the
PWA, kiosk and back-office start pages and the Swagger UI at ``/schema`` load and work, with no
CSP violation and no error in the console).
"""

from __future__ import annotations

import pytest
from playwright.async_api import async_playwright

from tests.security.support import bearer

FRONT_ENDS = ["/", "/kiosk/", "/staff/", "/staff/window.html", "/app.js", "/sw.js", "/kiosk/kiosk.js"]
OTHERS = ["/schema", "/api/v1/catalog", "/api/v1/no-such-route", "/healthz", "/api/v1/guides/company"]


def _directives(csp: str) -> dict[str, list[str]]:
    out = {}
    for part in csp.split(";"):
        words = part.split()
        if words:
            out[words[0]] = words[1:]
    return out


@pytest.mark.parametrize("path", FRONT_ENDS + OTHERS)
async def test_finding06_every_response_carries_the_security_headers(live, path):
    answer = await live.client.get(path, headers={"Accept": "text/html" if "guides" in path else "*/*"})
    assert answer.status_code < 500, answer.text[:200]
    h = answer.headers
    assert h.get("x-frame-options") == "DENY", dict(h)
    assert h.get("x-content-type-options") == "nosniff"
    assert h.get("referrer-policy") in ("same-origin", "no-referrer", "strict-origin-when-cross-origin")
    assert "camera=()" in h.get("permissions-policy", "")
    assert "strict-transport-security" not in h  # PUBLIC_URL is http here
    csp = _directives(h.get("content-security-policy", ""))
    assert csp.get("frame-ancestors") == ["'none'"], csp
    assert csp.get("default-src") == ["'none'"], csp
    for directive in ("script-src", "style-src"):
        assert "'unsafe-inline'" not in csp.get(directive, []) and "'unsafe-eval'" not in csp.get(directive, [])


async def test_finding06_the_api_docs_allow_only_their_own_inline_script(live):
    """The docs page loads its initializer as a file (nothing inline), so its CSP allows our own
    scripts only; an inline block, if a page had one, would be allowed by its hash alone."""
    answer = await live.client.get("/schema")
    assert answer.status_code == 200 and "<script" in answer.text
    inline = [tag for tag in answer.text.split("<script")[1:] if "src=" not in tag.split(">", 1)[0]]
    scripts = _directives(answer.headers["content-security-policy"])["script-src"]
    assert "'unsafe-inline'" not in scripts and "'self'" in scripts, scripts
    assert all(s == "'self'" or s.startswith("'sha256-") for s in scripts), scripts
    assert len([s for s in scripts if s.startswith("'sha256-")]) == len(inline), (scripts, inline)
    # JSON answers may load nothing at all
    api = await live.client.get("/api/v1/ratings/mine", headers=bearer(live.tokens["owner"]))
    assert api.headers["content-security-policy"] == "default-src 'none'; frame-ancestors 'none'"


async def test_finding06_hsts_when_the_public_url_is_https(tmp_path):
    """The production app behind an https PUBLIC_URL (routing only: no lifespan, nothing connects)."""
    from backend.app import create_app
    from backend.settings import load_settings

    settings = load_settings(env={}, public_url="https://yjs.example.gov.cn", data_dir=str(tmp_path))
    app = create_app(settings)
    sent: list[dict] = []

    async def receive():
        return {"type": "http.request", "body": b"", "more_body": False}

    async def send(message):
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": "GET",
        "scheme": "https",
        "path": "/api/v1/no-such-route",
        "raw_path": b"/api/v1/no-such-route",
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"yjs.example.gov.cn")],
        "client": ("127.0.0.1", 1),
        "server": ("127.0.0.1", 443),
        "state": {},
    }
    await app(scope, receive, send)
    headers = {k.decode(): v.decode() for k, v in sent[0]["headers"]}
    assert sent[0]["status"] == 404
    assert headers.get("strict-transport-security", "").startswith("max-age=31536000"), headers


CSP_WATCH = """
window.__csp = [];
document.addEventListener('securitypolicyviolation', (e) =>
  window.__csp.push(`${e.violatedDirective} ${e.blockedURI} ${e.sourceFile}:${e.lineNumber}`));
"""

# what each start page shows once its scripts have run
READY = {
    "/": '[data-testid="guides"][aria-busy="false"]',
    "/kiosk/": '[data-testid="guides"][aria-busy="false"]',
    "/staff/": '[data-testid="work-item"], [data-testid="work-items"] tbody tr',
    "/schema": ".swagger-ui .information-container .title",
}


@pytest.mark.e2e
@pytest.mark.parametrize("path", list(READY))
async def test_finding06_start_pages_and_swagger_work_under_their_csp_in_chromium(live, path):
    async with async_playwright() as p:
        browser = await p.chromium.launch(executable_path="/usr/bin/chromium")
        try:
            context = await browser.new_context(base_url=live.url, locale="zh-CN")
            if path.startswith("/staff"):
                token = (await live.client.post("/sandbox/token", json={"persona": "staff-amr"})).json()
                await context.add_cookies(
                    [
                        {"name": "yjs_access", "value": token["access_token"], "url": live.url, "httpOnly": True},
                        {"name": "yjs_csrf", "value": token["csrf_token"], "url": live.url},
                    ]
                )
            await context.add_init_script(CSP_WATCH)
            page = await context.new_page()
            console: list[str] = []
            errors: list[str] = []
            page.on("console", lambda m: console.append(m.text) if m.type == "error" else None)
            page.on("pageerror", lambda e: errors.append(str(e)))
            answer = await page.goto(path, wait_until="domcontentloaded", timeout=90_000)
            assert "content-security-policy" in answer.headers
            await page.wait_for_selector(READY[path], timeout=90_000)
            await page.wait_for_load_state("networkidle")
            violations = await page.evaluate("window.__csp")
            assert violations == [], violations
            assert [c for c in console if "Content Security Policy" in c or "Refused" in c] == [], console
            assert errors == [], errors
            await context.close()
        finally:
            await browser.close()
