"""Co-signers invited by QR code (general route: the liquidation group signs); after
submission an agency asks for a correction (补正) and the applicant fixes it from the case
page; a case nobody has taken up yet is withdrawn after a confirmation page."""

from __future__ import annotations

import asyncio
import subprocess

import httpx
from playwright.async_api import expect

from e2e.pages.pwa import login_as
from e2e.pwa.cases_api import prepared_draft, sign, submitted_case, wait_for_item_status

PERSON, USCC = "P075", "91350303MA3403418D"  # fixture scenario correction_on_tax


async def test_cosigners_correction_and_withdrawal(browser, device, embedded_server, axe, shot, tmp_path):
    base = embedded_server.url
    corrected = await asyncio.to_thread(submitted_case, base, PERSON, USCC, "general")
    await asyncio.to_thread(wait_for_item_status, base, PERSON, corrected["id"], "correction_requested")
    # the tax system is down while the second case is submitted: nothing is taken up, so it can be withdrawn
    draft = await asyncio.to_thread(prepared_draft, base, PERSON, USCC, "general")
    httpx.put(f"{base}/sandbox/simulators/etax/faults", json={"down": True}).raise_for_status()
    try:
        pending = await asyncio.to_thread(submitted_case, base, PERSON, USCC, "general")
        await in_the_browser(browser, device, base, axe, shot, corrected, pending, draft, tmp_path)
    finally:
        httpx.put(f"{base}/sandbox/simulators/etax/faults", json={}).raise_for_status()


async def in_the_browser(browser, device, base, axe, shot, corrected, pending, draft, tmp_path):
    context = await browser.new_context(**device("iPhone 13"), locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))

    async def ready(step: str) -> None:
        await page.wait_for_selector('#view[aria-busy="false"]')
        assert (violations := await axe(page)) == [], f"{step}:\n" + "\n".join(violations)
        await shot(page, step)

    await login_as(page, base, PERSON)
    await expect(page.get_by_test_id("case-list")).to_contain_text(corrected["number"])
    await ready("my-cases")

    # 电子签名: the other members of the liquidation group get a QR code (and a link) each; who signed shows live.
    await page.goto(f"{base}/#/case/{draft['id']}/signatures")
    await page.get_by_test_id("start-signing").click()
    qr = page.get_by_test_id("sign-qr").first
    await expect(qr).to_be_visible()
    await ready("cosigners")
    url = await qr.get_attribute("data-url")
    image = tmp_path / "qr.png"
    await qr.locator("svg").screenshot(path=str(image))
    decoded = subprocess.run(["zbarimg", "-q", "--raw", str(image)], capture_output=True, text=True).stdout.strip()
    assert decoded == url  # a phone camera reads the same link (zbar-tools is installed by `make test`)
    for link in [url, *[await a.get_attribute("href") for a in await page.get_by_test_id("sign-myself").all()]]:
        await asyncio.to_thread(sign, base, link)
    await expect(page.get_by_test_id("sign-complete")).to_be_visible(timeout=10000)
    await expect(page.get_by_test_id("signers")).not_to_contain_text("待签署")
    await ready("cosigners-signed")

    # 补正: the case page says exactly what to fix, with a form to fix it.
    await page.goto(f"{base}/#/case/{corrected['id']}")
    await expect(page.get_by_test_id("case-summary")).to_contain_text(corrected["number"])
    box = page.locator('[data-testid^="correction-"]')
    await expect(box).to_contain_text("主管税务机关所在行政区划与登记信息不一致")
    await expect(box).not_to_contain_text("xzqhdm")  # the agency's field name is shown as the form's own label
    await ready("case-correction")
    await box.get_by_role("link").click()
    await expect(page.get_by_test_id("correction-form")).to_be_visible()
    await ready("correction-form")
    # the division is chosen by name, the city first, then the county (莆田市涵江区 = 350303)
    await page.get_by_test_id("division-city").select_option("350300")
    await page.get_by_test_id("division-county").select_option("350303")
    await page.locator("#correction-message").fill("已核对主管税务机关。")
    await page.get_by_test_id("send-correction").click()
    await page.wait_for_function("id => location.hash === '#/case/' + id", arg=corrected["id"])
    await expect(page.locator('[data-testid^="correction-"]')).to_have_count(0, timeout=10000)
    await ready("case-corrected")

    # 撤回 with a confirmation page.
    await page.goto(f"{base}/#/case/{pending['id']}")
    await expect(page.get_by_test_id("case-summary")).to_contain_text(pending["number"])
    await page.get_by_test_id("withdraw-link").click()
    await expect(page.get_by_test_id("withdraw-form")).to_be_visible()
    await ready("withdraw-confirm")
    await page.get_by_test_id("confirm-withdraw").click()
    await page.wait_for_function("id => location.hash === '#/case/' + id", arg=pending["id"])
    await expect(page.get_by_test_id("case-status")).to_contain_text("已撤回")
    await ready("case-withdrawn")
    assert errors == []
    await context.close()


async def test_without_live_updates_the_case_page_follows_the_status(browser, device, embedded_server):
    """No EventSource (an old browser, or a proxy that ends the stream): the page asks for the
    cheap status every 10 s and reads the whole case again once it moved."""
    base = embedded_server.url
    httpx.put(f"{base}/sandbox/simulators/etax/faults", json={"down": True}).raise_for_status()  # nothing is taken up
    try:
        case = await asyncio.to_thread(submitted_case, base, PERSON, USCC, "general")
        context = await browser.new_context(**device("iPhone 13"), locale="zh-CN")
        await context.add_init_script("delete window.EventSource")
        page = await context.new_page()
        asked: list[str] = []
        page.on("request", lambda request: asked.append(request.url.split("?")[0]))
        await login_as(page, base, PERSON)
        await expect(page.get_by_test_id("case-list")).to_contain_text(case["number"])  # signed in
        await page.goto(f"{base}/#/case/{case['id']}")
        await expect(page.get_by_test_id("case-summary")).to_contain_text(case["number"])
        full = f"{base}/api/v1/cases/{case['id']}"
        for _ in range(60):  # the first check comes 10 s after the page opened
            if full + "/status" in asked:
                break
            await asyncio.sleep(0.25)
        assert full + "/status" in asked
        reads = asked.count(full)
        async with httpx.AsyncClient(base_url=base) as http:  # the applicant withdraws it on another device
            token = (await http.post("/sandbox/token", json={"persona": f"person-{PERSON}"})).json()["access_token"]
            (
                await http.post(
                    f"/api/v1/cases/{case['id']}/withdraw",
                    json={"reason": "改为普通注销"},
                    headers={"Authorization": f"Bearer {token}"},
                )
            ).raise_for_status()
        await expect(page.get_by_test_id("case-status")).to_contain_text("已撤回", timeout=15000)
        assert asked.count(full) == reads + 1  # the whole case once, when it moved
        await context.close()
    finally:
        httpx.put(f"{base}/sandbox/simulators/etax/faults", json={}).raise_for_status()
