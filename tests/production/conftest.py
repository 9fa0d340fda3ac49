"""The production deployment's pieces as an operator runs them: nginx with infra/nginx.conf and
TLS, the platform's processes, the test environment as its own process."""

from __future__ import annotations

import shutil

import pytest

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = ["--headless", "--no-sandbox", "--disable-gpu", "--disable-background-networking", "--no-first-run"]
SECURITY_HEADERS = (
    "strict-transport-security",
    "content-security-policy",
    "x-content-type-options",
    "referrer-policy",
    "permissions-policy",
)


def pytest_collection_modifyitems(items):
    for item in items:
        if "/tests/production/" in str(item.fspath):
            item.add_marker(pytest.mark.production)


def assert_security_headers(response) -> None:
    """HSTS, a CSP with frame-ancestors, nosniff, Referrer-Policy and Permissions-Policy."""
    missing = [name for name in SECURITY_HEADERS if name not in response.headers]
    assert not missing, (response.request.url, response.status_code, missing)
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]
    assert "max-age=" in response.headers["strict-transport-security"]
    assert response.headers["x-content-type-options"] == "nosniff"


async def csp_violations(page, url: str) -> list[str]:
    """Open ``url`` and return the CSP violations the page reported (console and securitypolicyviolation)."""
    seen: list[str] = []
    page.on("console", lambda m: seen.append(m.text) if "Content Security Policy" in m.text else None)
    await page.add_init_script(
        "document.addEventListener('securitypolicyviolation', e => "
        "console.error('Content Security Policy violation: ' + e.violatedDirective + ' ' + e.blockedURI))"
    )
    await page.goto(url, wait_until="networkidle")
    return seen
