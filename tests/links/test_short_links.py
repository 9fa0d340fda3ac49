"""Short links for co-signers' QR codes: a redirect while valid; expired (410) and unknown (404)
codes are an RFC 9457 problem for an API client and a readable page for a browser."""

from __future__ import annotations

import pytest

from tests.cases.live import platform_client
from tests.http import assert_problem as problem
from tests.http import login

pytestmark = pytest.mark.slow  # a live platform

BROWSER = {"Accept": "text/html,application/xhtml+xml,*/*;q=0.8"}


@pytest.fixture
async def api(tmp_path):
    async with platform_client(tmp_path) as client:
        yield client


async def test_a_short_link_redirects_until_it_expires(api):
    from backend.links.tables import ShortLink

    owner = await login(api, "applicant-p002")
    base = str(api.base_url).rstrip("/")
    target = f"{base}/sandbox/sign/session?request_id=r1&signer=P003&nonce={'n' * 40}&sha256={'a' * 64}"
    created = await api.post("/api/v1/short-links", json={"url": target}, headers=owner)
    assert created.status_code == 201, created.text
    body = created.json()
    assert len(body["code"]) == 8 and body["url"] == f"{base}/s/{body['code']}" and len(body["url"]) < len(target) / 3

    followed = await api.get(f"/s/{body['code']}", headers=BROWSER)
    assert followed.status_code == 302 and followed.headers["location"] == target

    await ShortLink.update({ShortLink.expires_at: 1}).where(ShortLink.code == body["code"])
    page = await api.get(f"/s/{body['code']}", headers={**BROWSER, "Accept-Language": "zh-CN"})
    assert page.status_code == 410 and page.headers["content-type"].startswith("text/html")
    assert "链接已过期" in page.text and "has expired" not in page.text  # one language per page
    english = await api.get(f"/s/{body['code']}", headers={**BROWSER, "Accept-Language": "en"})
    assert "This link has expired" in english.text and "过期" not in english.text
    problem(await api.get(f"/s/{body['code']}", headers={"Accept": "application/json"}), 410, "short_link_expired")


async def test_unknown_codes_and_foreign_links_are_refused(api):
    owner = await login(api, "applicant-p002")
    problem(await api.get("/s/zzzzzzzz", headers={"Accept": "application/json"}), 404, "short_link_not_found")
    page = await api.get("/s/zzzzzzzz", headers=BROWSER)
    assert page.status_code == 404 and "找不到这个链接" in page.text and "short_link" not in page.text
    refused = await api.post("/api/v1/short-links", json={"url": "https://evil.example/x"}, headers=owner)
    problem(refused, 422, "url_not_allowed", field="url")
    problem(await api.post("/api/v1/short-links", json={"url": f"{api.base_url}/x"}), 401, "unauthenticated")
