"""The self-service terminal by touch at 1080x1920: ID card + face (人证比对) through the
simulated device bridge, a progress lookup by keypad, a receipt read back from the printer,
both hand-offs with the phone, 一次一评, and the idle wipe that leaves nothing behind."""

from __future__ import annotations

import asyncio
import re
import subprocess
from datetime import datetime
from zoneinfo import ZoneInfo

import httpx
from playwright.async_api import expect

from e2e.pwa.cases_api import submitted_case
from e2e.readable import unreadable

PERSON, NAME, USCC = "P002", "林晓燕", "91350102MA0102003U"  # fixture scenario happy_path_all_items


async def kiosk_page(browser, device, base: str, query: str = "", orientation: str = "kiosk-portrait"):
    # the terminal's clock is set to another zone: every time it shows or prints is still China Standard Time
    context = await browser.new_context(**device(orientation), locale="zh-CN", timezone_id="America/Los_Angeles")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda e: errors.append(str(e)))
    page.errors = errors  # type: ignore[attr-defined]
    await page.goto(f"{base}/kiosk/{query}")
    await expect(page.get_by_test_id("start-card")).to_be_visible()
    return context, page


async def small_targets(page) -> list[str]:
    """Visible buttons and links in the page smaller than 48 px either way (WCAG 2.5.8 asks 24)."""
    return await page.evaluate(
        """() => [...document.querySelectorAll('button, a[href], [role=button]')]
              .filter((el) => el.offsetParent !== null)
              .map((el) => [el, el.getBoundingClientRect()])
              .filter(([, r]) => r.width < 48 || r.height < 48)
              .map(([el, r]) =>
                `${el.dataset.testid || el.textContent.trim()} ${Math.round(r.width)}x${Math.round(r.height)}`)"""
    )


WHERE_CARD = re.compile(r"读卡区在屏幕下方台面右侧|The card reader is on the desk below the screen, to the right")
WHERE_CAMERA = re.compile(r"摄像头在屏幕正上方|The camera is just above the screen")


async def decode_qr(locator, path) -> str:
    """What a phone camera reads from a QR code on screen (zbarimg, installed by `make test`)."""
    await locator.screenshot(path=str(path))
    return subprocess.run(["zbarimg", "-q", "--raw", str(path)], capture_output=True, text=True).stdout.strip()


async def identify(page, devices, *, mismatch_first: bool = False) -> dict:
    """Card on the reader, face in front of the camera: the visitor session starts."""
    if not await page.get_by_test_id("card-waiting").is_visible():
        await page.get_by_test_id("start-card").tap()
    await expect(page.get_by_test_id("card-waiting")).to_be_visible()
    # where the reader is, from the bridge's layout of this terminal (the simulator's: desk, right)
    await expect(page.get_by_test_id("where-card_reader")).to_contain_text(WHERE_CARD)
    await expect(page.get_by_test_id("where-card_reader").locator("svg circle.spot")).to_have_count(1)
    devices.camera("mismatch" if mismatch_first else "match")
    devices.place_card(PERSON)
    await expect(page.get_by_test_id("where-camera")).to_contain_text(WHERE_CAMERA)
    if mismatch_first:
        await page.get_by_test_id("start-face").tap()
        await expect(page.get_by_test_id("error")).to_contain_text("人脸与身份证不一致")
        devices.camera("match")
    async with page.expect_response(
        lambda r: r.url.endswith("/api/v1/kiosk/sessions") and r.request.method == "POST"
    ) as answer:
        await page.get_by_test_id("start-face").tap()
    session = await (await answer.value).json()
    return session


async def test_card_face_progress_receipt_and_rating(browser, device, kiosk_server, devices, axe, shot, tmp_path):
    base = kiosk_server.url
    case = await asyncio.to_thread(submitted_case, base, PERSON, USCC, "general")
    number = case["number"]
    context, page = await kiosk_page(browser, device, base)
    try:
        assert await axe(page) == []
        assert await small_targets(page) == []
        await shot(page, "attract")

        await identify(page, devices, mismatch_first=True)
        await expect(page.get_by_test_id("greeting")).to_have_text(f"您好，{NAME}")
        assert await axe(page) == []

        # the menu's controls sit in the lower part of the portrait screen, within a seated visitor's reach
        tops = await page.eval_on_selector_all(
            "#main .big-actions button", "els => els.map((e) => e.getBoundingClientRect().top)"
        )
        assert tops and min(tops) >= 1920 * 0.4, tops

        # 我的申请: after card and face the visitor's own cases, one touch each, no number to type
        await page.get_by_test_id("menu-mine").tap()
        mine = page.get_by_test_id(f"mine-{case['id']}")
        await expect(mine).to_contain_text(number)
        assert await axe(page) == []
        assert await small_targets(page) == []
        await shot(page, "my-cases")
        await mine.tap()
        await expect(page.get_by_test_id("case-view-number")).to_have_text(number)
        await page.get_by_test_id("back-menu").tap()

        await page.get_by_test_id("menu-progress").tap()
        for digit in "12":  # a slip of the finger, corrected with the keypad
            await page.get_by_test_id(f"key-{digit}").tap()
        await page.get_by_test_id("key-clear").tap()
        for digit in re.sub(r"\D", "", number):
            await page.get_by_test_id(f"key-{digit}").tap()
        await expect(page.get_by_test_id("case-number")).to_have_text(number)
        assert await axe(page) == []
        assert await small_targets(page) == []
        await shot(page, "keypad")
        await page.get_by_test_id("search").tap()

        await expect(page.get_by_test_id("case-view-number")).to_have_text(number)
        await expect(page.get_by_test_id("case-view-enterprise")).to_have_text(case["enterprise_name"])
        await expect(page.get_by_test_id("case-items").locator("li")).to_have_count(len(case["items"]))

        await page.get_by_test_id("print").tap()
        await expect(page.get_by_test_id("printed")).to_be_visible()
        jobs = devices.printed()
        assert len(jobs) == 1
        receipt = jobs[0]["job"]
        values = {line["label"]: line["value"] for line in receipt["lines"]}
        assert values["申请编号"] == number and values["企业名称"] == case["enterprise_name"]
        assert receipt["qr"] == f"{base}/#/case/{case['id']}"
        assert not any(re.search(r"\d{17}[\dX]", line["value"]) for line in receipt["lines"]), "no ID number on paper"
        # bank accounts and seals told apart on screen and on paper: bank and …1234, seal kinds and system
        matters = [
            line["label"] for line in receipt["lines"] if line["label"].startswith(("银行账户注销", "企业印章注销"))
        ]
        assert len(matters) == 5 and len(set(matters)) == 5, matters
        assert all(len(re.findall(r"…\d{4}", m)) == 1 for m in matters if m.startswith("银行")), matters  # once
        assert len(set(await page.get_by_test_id("matter-subject").all_inner_texts())) == 5
        now = datetime.now(ZoneInfo("Asia/Shanghai"))
        assert values["打印时间"].startswith(f"{now.year}年{now.month}月{now.day}日"), values["打印时间"]
        assert await unreadable(page) == []

        # show a QR code to follow the case on the phone
        await page.get_by_test_id("show-phone-qr").tap()
        qr = page.get_by_test_id("case-qr")
        await expect(qr).to_be_visible()
        assert await qr.get_attribute("data-url") == f"{base}/#/case/{case['id']}"
        assert await decode_qr(qr, tmp_path / "case-qr.png") == f"{base}/#/case/{case['id']}"
        assert await axe(page) == []
        await shot(page, "case")

        # 一次一评: one tap
        await page.get_by_test_id("end-visit").tap()
        await expect(page.get_by_test_id("rate-5")).to_be_visible()
        assert await axe(page) == []
        async with page.expect_response(lambda r: "/api/v1/ratings/visits" in r.url) as rated:
            await page.get_by_test_id("rate-4").tap()
        assert (await rated.value).status in (200, 201)
        rating = await (await rated.value).json()
        assert rating["level"] == 4 and rating["channel"] == "kiosk"  # the kiosk session's token, spent once
        await expect(page.get_by_test_id("thanks")).to_be_visible()
        await expect(page.get_by_test_id("start-card")).to_be_visible(timeout=10_000)
        assert NAME not in await page.content()
        assert page.errors == []
    finally:
        await context.close()


async def test_handoff_from_the_phone_and_to_the_phone(browser, device, kiosk_server, devices, axe, shot, tmp_path):
    """The PWA's case link as a QR code is scanned here; after 人证比对 the case opens. A new
    application started here is handed to the phone by QR code."""
    base = kiosk_server.url
    token = (
        httpx.post(base + "/sandbox/token", json={"persona": f"person-{PERSON}"})
        .raise_for_status()
        .json()["access_token"]
    )
    draft = (
        httpx.post(base + "/api/v1/cases", json={"uscc": USCC}, headers={"Authorization": f"Bearer {token}"})
        .raise_for_status()
        .json()
    )
    context, page = await kiosk_page(browser, device, base)
    try:
        await page.get_by_test_id("start-scan").tap()
        await expect(page.get_by_test_id("scan-waiting")).to_be_visible()
        devices.scan("https://example.org/not-a-case")
        await expect(page.get_by_test_id("error")).to_be_visible()
        # the phone shows the case link as a QR code (shared/qr.js); the terminal's scanner reads it
        phone = await browser.new_context(**device("iPhone 13"))
        phone_page = await phone.new_page()
        await phone_page.goto(
            base + "/api/v1/guides/company?format=html"
        )  # a same-origin page without scripts of its own
        await phone_page.evaluate(
            "async (link) => { const { qrSvg } = await import('/shared/qr.js'); "
            "document.body.innerHTML = `<div id=qr>${qrSvg(link)}</div>`; }",
            f"{base}/#/case/{draft['id']}/tasks",
        )
        devices.scan(await decode_qr(phone_page.locator("#qr svg"), tmp_path / "phone-qr.png"))
        await phone.close()
        await expect(page.get_by_test_id("notice")).to_be_visible()
        await identify(page, devices)
        await expect(page.get_by_test_id("case-view-enterprise")).to_have_text(draft["enterprise_name"])
        await expect(page.get_by_test_id("case-view-status")).to_have_text(draft["status_label"]["zh"])
        await expect(page.get_by_test_id("print")).to_have_count(0)  # nothing to print before submission
        await shot(page, "handoff-in")

        # the PWA's journey continues here, as the visitor (bearer token in memory), without history entries
        history_length = await page.evaluate("history.length")
        await page.get_by_test_id("continue-here").tap()
        await expect(page.get_by_test_id("journey").get_by_test_id("task-list")).to_be_visible()
        assert await axe(page) == []
        await shot(page, "journey-tasks")
        await page.get_by_test_id("journey").locator('a[href*="/precheck"]').first.tap()
        # a draft without answers has no plan: the pre-check sends it on to its first question (the
        # journey's own redirect, which must replace the entry as the kiosk's links do)
        await expect(page).to_have_url(re.compile(r"#/case/[^/]+/q/"))
        await expect(page.get_by_test_id("journey")).to_have_attribute("aria-busy", "false")
        await expect(page.get_by_test_id("journey").locator("h1")).to_be_visible()
        assert await page.evaluate("history.length") == history_length
        await page.get_by_test_id("back-menu").tap()
        await expect(page.get_by_test_id("menu-apply")).to_be_visible()
        assert await page.evaluate("location.hash") == ""

        # a new application: the draft starts here, the phone continues it
        await page.get_by_test_id("menu-apply").tap()
        await page.get_by_test_id(f"apply-{USCC}").tap()
        qr = page.get_by_test_id("case-qr")
        await expect(qr).to_be_visible()
        url = await qr.get_attribute("data-url")
        assert await decode_qr(qr, tmp_path / "new-draft-qr.png") == url
        new_id = url.rsplit("/", 1)[1]
        created = (
            httpx.get(f"{base}/api/v1/cases/{new_id}", headers={"Authorization": f"Bearer {token}"})
            .raise_for_status()
            .json()
        )
        assert created["channel"] == "kiosk" and created["status"] == "draft"
        await shot(page, "handoff-out")
        assert page.errors == []
    finally:
        await context.close()


async def test_idle_timeout_counts_down_then_wipes_everything(browser, device, kiosk_server, devices, axe, shot):
    base = kiosk_server.url
    context, page = await kiosk_page(browser, device, base, "?idle=8&warn=5")
    try:
        await page.get_by_test_id("toggle-language").tap()  # the visitor's preferences are part of the visit
        await expect(page.get_by_test_id("start-card")).to_contain_text("Start with your ID card")
        await page.get_by_test_id("toggle-language").tap()
        await expect(page.get_by_test_id("start-card")).to_contain_text("刷身份证开始办理")
        await page.get_by_test_id("toggle-text").tap()
        session = await identify(page, devices)
        await expect(page.get_by_test_id("greeting")).to_contain_text(NAME)
        await page.get_by_test_id("menu-progress").tap()
        for digit in "2026":
            await page.get_by_test_id(f"key-{digit}").tap()
        # whatever a visit may leave in the browser (drafts, caches) is there before the wipe
        await page.evaluate(
            """async () => {
                sessionStorage.setItem('visit', 'x');
                await new Promise((ok) => {
                    const r = indexedDB.open('yjs-drafts');
                    r.onupgradeneeded = () => r.result.createObjectStore('drafts');
                    r.onsuccess = () => { r.result.close(); ok(); };
                });
                await (await caches.open('yjs-visit')).put('/kiosk/visit', new Response('林晓燕'));
                document.cookie = 'visit=1; path=/';
            }"""
        )
        assert await page.evaluate("localStorage.length") > 0

        # the countdown: visible, announced, and 继续办理 gives the visitor more time
        dialog = page.get_by_test_id("idle-dialog")
        await expect(dialog).to_be_visible(timeout=10_000)
        await expect(page.get_by_test_id("idle-countdown")).to_contain_text("秒后将自动退出")
        await expect(page.get_by_test_id("idle-announce")).to_contain_text("秒后将自动退出")
        assert await dialog.get_attribute("role") == "alertdialog"
        assert await axe(page) == []
        await shot(page, "countdown")
        await page.get_by_test_id("idle-continue").tap()
        await expect(dialog).to_be_hidden()
        await expect(page.get_by_test_id("case-number")).to_have_text("ZX2026")

        # then nobody touches the screen
        await expect(dialog).to_be_visible(timeout=10_000)
        await expect(page.get_by_test_id("start-card")).to_be_visible(timeout=15_000)
        await shot(page, "wiped")

        state = await page.evaluate(
            """async () => ({
                local: localStorage.length, session: sessionStorage.length,
                idb: (await indexedDB.databases()).map((d) => d.name),
                caches: await caches.keys(), cookie: document.cookie,
                workers: (await navigator.serviceWorker.getRegistrations()).length,
                lang: document.documentElement.lang, text: document.documentElement.dataset.textSize,
            })"""
        )
        assert state == {
            "local": 0,
            "session": 0,
            "idb": [],
            "caches": [],
            "cookie": "",
            "workers": 0,
            "lang": "zh-CN",
            "text": "normal",
        }
        assert await context.cookies() == []
        html = await page.content()
        assert NAME not in html and "ZX2026" not in html
        assert await page.get_by_test_id("screen").get_attribute("data-screen") == "attract"

        # the visitor session is over on the platform, and the bridge forgot the card
        me = httpx.get(base + "/api/v1/me", headers={"Authorization": f"Bearer {session['tokens']['access_token']}"})
        assert me.status_code == 401
        assert httpx.get(base + "/sandbox/device/card").status_code == 404

        # the back button brings nothing of the visit back
        await page.go_back()
        await page.wait_for_load_state()
        assert NAME not in await page.content()
        await page.go_forward()
        await page.wait_for_load_state()
        assert NAME not in await page.content()
        assert page.errors == []
    finally:
        await context.close()


async def test_landscape_layout_and_english(browser, device, kiosk_server, axe, shot):
    context, page = await kiosk_page(browser, device, kiosk_server.url, orientation="kiosk-landscape")
    try:
        await page.get_by_test_id("toggle-language").tap()
        await expect(page.get_by_test_id("start-card")).to_contain_text("Start with your ID card")
        assert await page.evaluate("document.documentElement.lang") == "en"
        assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
        assert await small_targets(page) == []
        assert await axe(page) == []
        await page.get_by_test_id("start-phone").tap()
        await expect(page.get_by_test_id("phone-qr")).to_be_visible()
        assert await axe(page) == []
        await shot(page, "landscape")
    finally:
        await context.close()


async def test_application_finished_at_the_kiosk_with_the_pwa_journey(
    browser, device, kiosk_server, devices, axe, shot
):
    """A draft filled on the phone (answers, form, uploads) is finished at the terminal through
    the PWA's own journey pages: enterprise check, form check, signatures and the face check
    (their provider pages handed to phones by QR code), check answers and one submission."""
    from urllib.parse import parse_qs, urlparse

    from e2e.pwa.cases_api import prepared_draft, sign

    base = kiosk_server.url
    draft = await asyncio.to_thread(prepared_draft, base, PERSON, USCC, "simplified")
    context, page = await kiosk_page(browser, device, base)
    journey = page.get_by_test_id("journey")

    async def task(name: str) -> None:
        await expect(journey.get_by_test_id("task-list")).to_be_visible()
        await journey.get_by_test_id(f"task-{name}").get_by_role("link").tap()

    try:
        await page.get_by_test_id("start-scan").tap()
        devices.scan(f"{base}/#/case/{draft['id']}")
        await expect(page.get_by_test_id("notice")).to_be_visible()
        await identify(page, devices)
        await page.get_by_test_id("continue-here").tap()

        await task("enterprise")
        await journey.get_by_test_id("confirm-enterprise").tap()
        await task("form")
        for _ in range(8):  # a few fields a page, then check answers
            step = await journey.get_by_test_id("form-step").inner_text()
            await journey.get_by_test_id("save-form").tap()
            after = journey.get_by_test_id("form-step").filter(has_not_text=step)
            await expect(journey.get_by_test_id("confirm-form").or_(after)).to_be_visible()
            if await journey.get_by_test_id("confirm-form").count():
                break
        await journey.get_by_test_id("confirm-form").tap()

        await task("signatures")
        await expect(journey.locator("h1")).to_contain_text("电子签名")
        if await journey.get_by_test_id("start-signing").count():
            await journey.get_by_test_id("start-signing").tap()
        await expect(journey.get_by_test_id("signers")).to_be_visible(timeout=15_000)  # the PDF is made first
        urls = [await el.get_attribute("data-url") for el in await journey.get_by_test_id("sign-qr").all()]
        for mine in await journey.get_by_test_id("sign-myself").all():  # a link to the provider: handed to the phone
            await mine.tap()
            urls.append(await page.get_by_test_id("link-qr").get_attribute("data-url"))
        assert urls
        for url in urls:
            await asyncio.to_thread(sign, base, url)
        await expect(journey.get_by_test_id("sign-complete")).to_be_visible(timeout=15_000)
        await journey.get_by_test_id("continue").tap()

        await task("face")
        await journey.get_by_test_id("face-start").tap()
        await journey.get_by_test_id("face-open").tap()
        handed = page.get_by_test_id("link-qr")
        await expect(handed).to_be_visible()
        assert await axe(page) == []
        await shot(page, "face-on-phone")
        q = {k: v[0] for k, v in parse_qs(urlparse(await handed.get_attribute("data-url")).query).items()}
        httpx.post(
            base + "/sandbox/face/session",
            data={"verification_id": q["verification_id"], "nonce": q["nonce"], "decision": "passed"},
        ).raise_for_status()
        await expect(journey.get_by_test_id("face-passed")).to_be_visible(timeout=15_000)
        await journey.get_by_test_id("continue").tap()

        await task("submit")
        await journey.get_by_test_id("submit").tap()
        number = journey.get_by_test_id("case-number")
        await expect(number).to_have_text(re.compile(r"^ZX\d{8}-\d{6}-\d$"))
        assert await axe(page) == []
        await shot(page, "submitted")
        assert await page.evaluate("location.pathname + location.hash") == f"/kiosk/#/case/{draft['id']}/done"

        # finishing without a rating wipes the visit; walking back through history brings none of it back
        await page.get_by_test_id("end-visit").tap()
        await page.get_by_test_id("rate-skip").tap()
        await expect(page.get_by_test_id("start-card")).to_be_visible(timeout=10_000)
        assert await page.evaluate("location.hash") == ""
        for _ in range(4):
            await page.go_back()
            await page.wait_for_load_state()
            if not page.url.startswith(base):  # back before the kiosk opened (the visit left few entries)
                await page.go_forward()
                await page.wait_for_load_state()
                break
            html = await page.content()
            assert NAME not in html and draft["enterprise_name"] not in html
        assert page.url.startswith(base)
        html = await page.content()
        assert NAME not in html and draft["enterprise_name"] not in html
        assert await page.evaluate("localStorage.length + sessionStorage.length") == 0
        assert page.errors == []
    finally:
        await context.close()


async def test_a_file_chosen_at_the_kiosk_uploads_as_the_visitor(browser, device, kiosk_server, devices, axe, shot):
    """The journey's materials page at the terminal: a file chosen uploads at once with the visitor's
    bearer token (the terminal holds no session cookie), as the phone's does with its cookie."""
    from e2e.pwa.cases_api import PDF, _client, prepared_draft

    base = kiosk_server.url
    draft = await asyncio.to_thread(prepared_draft, base, PERSON, USCC, "general", materials=False)
    context, page = await kiosk_page(browser, device, base)
    journey = page.get_by_test_id("journey")
    try:
        await page.get_by_test_id("start-scan").tap()
        devices.scan(f"{base}/#/case/{draft['id']}/materials")
        await expect(page.get_by_test_id("notice")).to_be_visible()
        await identify(page, devices)
        await page.get_by_test_id("continue-here").tap()
        await journey.get_by_test_id("task-materials").get_by_role("link").tap()
        field = journey.locator('[data-testid^="upload-"]').first
        code = (await field.get_attribute("data-testid")).removeprefix("upload-")
        await field.locator("input[type=file]").set_input_files(
            {"name": "kiosk-scan.pdf", "mimeType": "application/pdf", "buffer": PDF}
        )
        await expect(journey.get_by_test_id(f"uploaded-{code}")).to_have_text("已上传：kiosk-scan.pdf")
        assert await axe(page) == []
        assert await small_targets(page) == []
        await shot(page, "materials-uploaded")
        assert page.errors == []
    finally:
        await context.close()
        with _client(base, f"{PERSON}") as http:  # leave no open draft behind
            http.post(f"/api/v1/cases/{draft['id']}/withdraw", json={}).raise_for_status()
