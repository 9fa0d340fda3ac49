"""The applicant's whole journey on three phones: start page, login through the sandbox
persona picker as 林晓燕 (P002, legal representative of 91350102MA0102003U), choose the
enterprise, situation questions one per page, pre-check, task list, prefilled form with
check answers, an edit made offline that syncs when back online, materials, co-signers by
link/QR, face verification, submission (once), confirmation, and the live case page.
Every page gets an axe-core scan and a screenshot."""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest
from playwright.async_api import expect

from e2e.conftest import PHONES
from e2e.pages.pwa import Journey, fill_form_pages, login, same_progress_elsewhere
from e2e.pwa.cases_api import withdraw_open_drafts

USCC = "91350102MA0102003U"


async def run_journey(j: Journey, context, server) -> str:
    page = j.page
    await page.goto(server.url + "/")
    await page.wait_for_selector('[data-testid="guides"][aria-busy="false"]')
    await j.check("start")
    await j.testid("start-now").click()
    await j.wait_route("#/enterprises")
    assert await j.heading() == "请先登录"
    await j.check("login")
    await login(j)
    await j.wait_route("#/enterprises")
    await expect(page.locator("#view h1")).to_contain_text("要注销哪家企业")
    await j.check("enterprise-choice")
    await page.get_by_label(re.compile("福州榕鑫贸易有限公司")).check()
    await j.testid("continue").click()

    # Situation questions, one per page: only what the registration record does not tell.
    await j.wait_route(r"#/case/\w+/q/")
    case_id = re.search(r"#/case/(\w+)/", page.url).group(1)
    asked = []
    while "/q/" in page.url:
        key = page.url.rsplit("/", 1)[1]
        asked.append(key)
        if key == "route":
            await j.check("question-route")
            await j.testid("continue").click()  # nothing chosen: the error summary links to the field
            await expect(j.testid("error-summary")).to_be_focused()
            await j.check("question-error")
            await page.get_by_label("简易注销").check()
        else:
            await page.locator("input[type=radio][value=false]").check()
            await j.check(f"question-{key}")
        await j.testid("continue").click()
        await page.wait_for_function("k => !location.hash.endsWith('/q/' + k)", arg=key)
        await page.wait_for_selector('#view[aria-busy="false"]')
    assert "route" in asked and "has_customs_filing" not in asked  # facts from the record are not asked

    await j.wait_route(r"/precheck$")
    await expect(j.testid("planned-items")).to_be_visible()
    await j.check("precheck")
    await j.testid("continue").click()

    await j.wait_route(r"/tasks$")
    await expect(j.testid("task-submit")).to_contain_text("暂不能开始")
    await expect(j.testid("task-situation")).to_contain_text("已完成")
    await j.check("tasks")

    # English and large text re-render the page in place; the choice is kept.
    await page.get_by_role("button", name="切换为英文").click()
    await expect(page.locator("#view h1")).to_contain_text("Your application")
    await expect(j.testid("task-submit")).to_contain_text("Cannot start yet")
    await page.get_by_role("button", name="Large text").click()
    await j.check("tasks-en-large")
    await page.get_by_role("button", name="Large text").click()
    await page.get_by_role("button", name="Switch to Chinese").click()
    await expect(page.locator("#view h1")).to_contain_text("注销申请")

    await j.testid("task-enterprise").get_by_role("link").click()
    await j.wait_route(r"/enterprise$")
    await j.check("enterprise")
    await j.testid("confirm-enterprise").click()

    # The merged form, prefilled from the registration record.
    await j.wait_route(r"/tasks$")
    await j.testid("task-form").get_by_role("link").click()
    await j.wait_route(r"/form$")
    # facts from the register are shown with their source, not as inputs
    await expect(j.testid("register-facts")).to_contain_text("福州榕鑫贸易有限公司")
    await expect(j.testid("register-source")).to_contain_text("来自市场主体登记档案")
    assert await page.locator("#f-entity_name").count() == 0
    await fill_form_pages(j)
    await expect(j.testid("form-summary")).to_contain_text("35010200012345")
    await j.check("form-check")

    # Offline: change an answer through its change link, save, reload (served by the service worker), sync.
    await page.wait_for_function("() => navigator.serviceWorker && navigator.serviceWorker.controller !== null")
    await context.set_offline(True)
    await j.testid("form-summary").get_by_role("link", name=re.compile("修改 联系手机号码")).click()
    await j.wait_route(r"/form\?field=contact_phone")
    await expect(page.locator("#f-contact_phone")).to_be_focused()
    await page.locator("#f-contact_phone").fill("13800138000")
    await j.testid("save-form").click()
    await j.wait_route(r"/check$")
    await expect(j.testid("sync-pending")).to_be_visible()
    await expect(j.testid("offline-banner")).to_be_visible()
    await page.reload()
    await j.wait_route(r"/check$")
    await expect(j.testid("form-summary")).to_contain_text("13800138000")
    await j.check("offline-edit")
    # meanwhile the draft changes elsewhere (another device): the queued edit is now stale (409) and is re-applied
    async with httpx.AsyncClient(base_url=server.url) as http:
        token = (await http.post("/sandbox/token", json={"persona": "person-P002"})).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        version = (await http.get(f"/api/v1/cases/{case_id}", headers=auth)).json()["version"]
        (
            await http.patch(
                f"/api/v1/cases/{case_id}", json={"form_data": {"seal_count": 2}, "version": version}, headers=auth
            )
        ).raise_for_status()
    await context.set_offline(False)
    await expect(j.testid("offline-banner")).to_be_hidden()
    for _ in range(50):  # the outbox sends the edit once the connection is back
        synced = (await (await page.request.get(f"{server.url}/api/v1/cases/{case_id}")).json())["form_data"]
        if synced["contact_phone"] == "13800138000":
            break
        await page.wait_for_timeout(200)
    else:
        raise AssertionError("the offline edit was not synced")
    assert synced["seal_count"] == 2  # the other device's change is kept
    await page.reload()
    await j.wait_route(r"/check$")
    await expect(j.testid("sync-done")).to_be_visible()
    await j.testid("confirm-form").click()

    # Materials: waived ones say why; the rest are uploaded.
    await j.wait_route(r"/tasks$")
    await j.testid("task-materials").get_by_role("link").click()
    await j.wait_route(r"/materials$")
    await expect(j.testid("materials-waived")).to_contain_text("电子证照")
    await expect(j.testid("materials-online")).to_contain_text("合并申请表")  # filled and e-signed here, not uploaded
    fields = page.locator('[data-testid^="upload-"]')
    assert await fields.locator("input[type=file][capture]").count() == await fields.count()
    await j.check("materials")
    for i in range(await fields.count()):  # choosing a file uploads it: there is nothing else to press
        code = (await fields.nth(i).get_attribute("data-testid")).removeprefix("upload-")
        await j.choose_file(code, f"{code}.pdf")
        await expect(j.testid(f"uploaded-{code}")).to_have_text(f"已上传：{code}.pdf")
    await j.check("materials-uploaded")
    await j.testid("continue").click()

    # Signatures: invite co-signers by link / QR code; everyone signs on the sandbox provider.
    await j.wait_route(r"/tasks$")
    await j.testid("task-signatures").get_by_role("link").click()
    await j.wait_route(r"/signatures$")
    if await j.testid("sign-unavailable").count() == 0:
        await j.testid("start-signing").click()
        await expect(j.testid("signers")).to_be_visible(timeout=15000)  # the application's PDF is made first
        await j.check("signatures")
        urls = [await el.get_attribute("data-url") for el in await j.testid("sign-qr").all()]
        urls += [await el.get_attribute("href") for el in await j.testid("sign-myself").all()]
        assert urls
        signer = await context.new_page()
        for url in urls:
            await signer.goto(url)
            await signer.get_by_test_id("sign").click()
            await expect(signer.get_by_test_id("sign-outcome")).to_have_text("已签署")
        await signer.close()
        await expect(j.testid("sign-complete")).to_be_visible(timeout=10000)
        await j.check("signatures-complete")
        await j.testid("continue").click()
    else:
        await j.check("signatures-unavailable")
        await page.goto(f"{server.url}/#/case/{case_id}/tasks")

    # Face verification on the sandbox provider's page, result back by polling.
    await j.wait_route(r"/tasks$")
    await j.testid("task-face").get_by_role("link").click()
    await j.wait_route(r"/face$")
    await j.check("face")
    await j.testid("face-start").click()
    provider = await j.testid("face-open").get_attribute("href")
    await j.check("face-waiting")
    phone = await context.new_page()
    await phone.goto(provider)
    await phone.get_by_test_id("face-pass").click()
    await expect(phone.get_by_test_id("face-outcome")).to_have_text("通过")
    await phone.close()
    await expect(j.testid("face-passed")).to_be_visible(timeout=10000)
    await j.check("face-passed")
    await j.testid("continue").click()

    # Another device of the same person shows the same progress: it is kept on the server.
    await j.wait_route(r"/tasks$")
    await same_progress_elsewhere(j, context, server, case_id)

    # Check answers and submit once: a double tap sends one submission.
    await expect(j.testid("task-submit")).to_contain_text("未开始")
    await j.check("tasks-ready")
    await j.testid("task-submit").get_by_role("link").click()
    await j.wait_route(r"/submit$")
    await expect(j.testid("form-summary")).to_contain_text("13800138000")
    await j.check("check-answers")
    submits: list[str] = []
    page.on(
        "request", lambda r: submits.append(r.headers.get("idempotency-key", "")) if r.url.endswith("/submit") else None
    )
    await j.testid("submit").dblclick()
    await j.wait_route(r"/done$")
    assert len(submits) == 1 and submits[0]
    number = (await j.testid("case-number").inner_text()).strip()
    assert number
    # the simplified route: the promise names the 20-day publicity first, as the pre-check and guide do
    await expect(j.testid("promised-days")).to_contain_text(
        re.compile(r"先经简易注销公示期20日，期满无异议后\d+个工作日内办结")
    )
    await j.check("confirmation")

    # The case page: every matter with promised dates, updated live.
    await j.testid("view-case").click()
    await j.wait_route(rf"#/case/{case_id}$")
    await expect(page.locator('[data-testid^="item-"]').first).to_be_visible()
    await expect(page.locator('[data-testid="items"]')).to_contain_text("承诺")
    await j.check("case")
    # the publicity period (公示) ends in the test environment: registration moves on, live
    waiting = await page.locator('[data-testid^="item-"][data-status="waiting"]').count()
    assert waiting > 0
    response = await page.request.post(f"{server.url}/sandbox/cases/{case_id}/notice/end")
    assert response.ok
    await expect(j.testid("live-status")).to_contain_text("进度已更新", timeout=15000)
    await page.wait_for_function(
        "n => document.querySelectorAll('[data-testid^=item-][data-status=waiting]').length < n",
        arg=waiting,
        timeout=15000,
    )
    await j.check("case-live")

    # 好差评: one rating per matter once it is done
    rate = page.locator('[data-testid^="rate-"]').first
    await rate.locator("xpath=ancestor::li[1]").get_by_test_id("matter-toggle").click()  # a matter's details expand
    # its result documents, each a link a screen reader announces as a download of that title
    document = rate.locator("xpath=ancestor::li[1]").get_by_test_id("document").first
    await expect(document).to_have_accessible_name(re.compile(r"^下载：\s*\S"))
    await rate.click()
    await j.wait_route(r"/rate/")
    await j.check("rate")
    await page.get_by_label("非常满意").check()
    await j.testid("send-rating").click()
    await j.wait_route(rf"#/case/{case_id}$")
    await expect(page.locator('[data-testid^="rated-"]').first).to_contain_text("非常满意")

    await j.testid("nav-cases").click()
    await j.wait_route(r"#/cases$")
    await expect(j.testid("case-list")).to_contain_text(number)
    await j.check("my-cases")
    await j.testid("nav-notifications").click()
    await j.wait_route(r"#/notifications$")
    await j.check("notifications")
    # opt out of text messages (in-app notifications stay)
    await expect(j.testid("sms-settings")).to_be_visible()
    await page.get_by_label("不发短信，只在本平台通知我").check()
    await j.testid("save-sms").click()
    await expect(j.testid("live-status")).to_have_text("短信设置已保存。")
    prefs = await (await context.request.get(server.url + "/api/v1/notifications/preferences")).json()
    assert prefs == {"sms": False, "language": "zh-CN"}
    # switching the app to English makes the texts English too (the opt-out stays)
    await page.locator('[data-action="toggle-language"]').first.click()
    await expect(page.get_by_test_id("save-sms")).to_have_text("Save text message settings")

    async def text_language() -> str:
        return (await (await context.request.get(server.url + "/api/v1/notifications/preferences")).json())["language"]

    for _ in range(50):  # saved in the background after the switch
        if await text_language() == "en":
            break
        await page.wait_for_timeout(100)
    assert (await (await context.request.get(server.url + "/api/v1/notifications/preferences")).json()) == {
        "sms": False,
        "language": "en",
    }
    await page.locator('[data-action="toggle-language"]').first.click()  # back to zh-CN for the rest
    await expect(page.get_by_test_id("save-sms")).to_have_text("保存短信设置")
    return case_id


@pytest.mark.parametrize("name", PHONES)
async def test_whole_journey_on_a_phone(browser, device, pwa_server, axe, shot, name):
    # A new application for the enterprise: drafts other walks left on this server would be resumed.
    await asyncio.to_thread(withdraw_open_drafts, pwa_server.url, "P002", USCC)
    context = await browser.new_context(**device(name), locale="zh-CN")
    page = await context.new_page()
    journey = Journey(page, pwa_server.url, axe, shot)
    try:
        await run_journey(journey, context, pwa_server)
        assert journey.errors == []
    except BaseException:
        await shot(page, "failure")
        raise
    finally:
        await context.close()
