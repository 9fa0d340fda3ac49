"""When the registration system (market regulation's enterprise lookup) does not answer, the PWA
says so in plain words and asks to try later; once it answers again the applicant goes on.

The platform (``python -m backend run``) reaches the test environment's registration platform
over HTTP (``REGISTRATION_LOOKUP_URL``), served here in the test's own event loop."""

from __future__ import annotations

import asyncio
import json
import re

import httpx
from playwright.async_api import expect

from backend.connectors.registration_lookup.simulator import RegistrationSimulator, create_registration_app
from backend.connectors.signing import generate_signing_key, jwks_of
from tests.connectors.test_registration_lookup import serve
from tests.servers import ROOT, PlatformProcess


async def test_the_pwa_says_the_registration_system_is_not_answering(browser, tmp_path, artifacts_dir):
    key = generate_signing_key("yjs-platform-e2e")
    key_file = tmp_path / "platform.jwk.json"
    key_file.write_text(json.dumps(key))
    sim = RegistrationSimulator(clients={"yjs-platform": jwks_of(key)})
    async with serve(create_registration_app(sim)) as registry:
        sim.faults.down = True
        server = PlatformProcess(
            "run",
            artifacts_dir,
            data_dir=str(tmp_path / "data"),
            registration_lookup_url=registry,
            signing_key_file=str(key_file),
        )
        await asyncio.to_thread(server.start)
        try:
            context = await browser.new_context(locale="zh-CN")
            page = await context.new_page()
            await page.goto(server.url + "/#/enterprises")
            await page.get_by_test_id("login").click()
            await page.wait_for_url(re.compile(r"/sandbox/oidc/authorize"))
            await page.get_by_test_id("persona-applicant-p002").click()
            message = page.get_by_test_id("error-message")
            catalog = json.loads((ROOT / "shared" / "messages" / "zh-CN.json").read_text())
            await expect(message).to_have_text(catalog["error.registrationUnavailable"])  # from the catalog
            assert "registration_lookup_unavailable" not in await page.content()  # no internal code shown

            sim.faults.down = False
            await page.reload()
            await expect(page.locator("#view h1")).to_contain_text("要注销哪家企业")
            async with httpx.AsyncClient() as http:
                assert (await http.get(registry + "/admin/stats")).json()["lookups"] > 0  # over HTTP
            await context.close()
        finally:
            await asyncio.to_thread(server.stop)
