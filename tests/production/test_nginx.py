"""infra/nginx.conf, rendered for loopback, with TLS, in front of the platform (``make run``'s
process): every response carries the security headers, plain http is redirected, the test
environment and /metrics are not public, caching stays the app's, and /schema renders under the CSP."""

from __future__ import annotations

import ssl
import subprocess

import httpx
import pytest
from playwright.async_api import async_playwright

from tests.production.conftest import CHROMIUM, CHROMIUM_ARGS, assert_security_headers, csp_violations
from tests.servers import NginxServer, free_port, make_certificate


def trusting(cert) -> ssl.SSLContext:
    """TLS that trusts the test's certificate (as a browser trusts the province's CA)."""
    return ssl.create_default_context(cafile=str(cert))


@pytest.fixture(scope="module")
def proxy(embedded_server, tmp_path_factory):
    """nginx on two free ports in front of the embedded platform; (https base URL, http base URL, cert)."""
    cert, key = make_certificate(tmp_path_factory.mktemp("tls"), "localhost", "127.0.0.1")
    https, http = free_port(), free_port()
    nginx = NginxServer(
        {
            "YJS_SERVER_NAME": "localhost",
            "YJS_PUBLIC_URL": f"https://localhost:{https}",
            "YJS_HTTP_LISTEN": f"127.0.0.1:{http}",
            "YJS_HTTPS_LISTEN": f"127.0.0.1:{https}",
            "YJS_TLS_CERT": str(cert),
            "YJS_TLS_KEY": str(key),
            "YJS_API_SERVERS": f"server 127.0.0.1:{embedded_server.port};",
            "YJS_INTERNAL_CIDR": "10.0.0.0/8",
        }
    )
    nginx.start(https)
    yield f"https://localhost:{https}", f"http://127.0.0.1:{http}", cert
    nginx.destroy()


def test_every_response_carries_the_security_headers(proxy):
    url, _, cert = proxy
    with httpx.Client(base_url=url, verify=trusting(cert), timeout=60) as client:
        for path in ("/", "/kiosk/", "/staff/", "/schema", "/schema/openapi.json", "/shared/api.js", "/no/such/page"):
            response = client.get(path)
            assert response.status_code == (404 if path == "/no/such/page" else 200), (path, response.status_code)
            assert_security_headers(response)
        assert client.get("/").http_version in ("HTTP/1.1", "HTTP/2")


def test_http2_is_offered(proxy):
    url, _, cert = proxy
    version = subprocess.run(
        ["curl", "-s", "--http2", "--cacert", str(cert), "-o", "/dev/null", "-w", "%{http_version}", url + "/healthz"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert version == "2"


def test_plain_http_is_redirected_to_public_url(proxy):
    url, http, _ = proxy
    response = httpx.get(http + "/kiosk/?x=1")
    assert response.status_code == 301
    assert response.headers["location"] == url + "/kiosk/?x=1"


def test_the_test_environment_and_metrics_are_not_public(proxy):
    url, _, cert = proxy
    with httpx.Client(base_url=url, verify=trusting(cert), timeout=60) as client:
        for path in ("/sandbox/personas", "/sandbox/oidc/.well-known/openid-configuration", "/sim/etax/admin/stats"):
            response = client.get(path)
            assert response.status_code == 404, path  # the embedded platform behind it would answer
            assert_security_headers(response)
        assert client.get("/metrics").status_code == 403  # from outside the internal network


def test_caching_is_the_apps_revalidation(proxy):
    url, _, cert = proxy
    with httpx.Client(base_url=url, verify=trusting(cert), timeout=60) as client:
        first = client.get("/shared/api.js")
        assert first.headers["cache-control"] == "no-cache" and "expires" not in first.headers
        again = client.get("/shared/api.js", headers={"If-None-Match": first.headers["etag"]})
        assert again.status_code == 304


async def test_the_api_docs_render_under_the_csp(proxy):
    url, _, _ = proxy
    async with async_playwright() as pw:
        browser = await pw.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
        try:
            context = await browser.new_context(ignore_https_errors=True)
            page = await context.new_page()
            violations = await csp_violations(page, url + "/schema")
            await page.wait_for_selector(
                "#swagger-container .swagger-ui .info .title", timeout=120_000
            )  # the first /schema builds the document: slow on a busy machine
            assert "一件事" in await page.inner_text("#swagger-container .info .title")
            assert await page.locator(".opblock").count() > 10  # the operations, from /schema/openapi.json
            assert violations == []
            for path in ("/", "/kiosk/", "/staff/"):
                page = await context.new_page()
                assert await csp_violations(page, url + path) == [], path
        finally:
            await browser.close()
