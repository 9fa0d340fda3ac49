"""Uploading in one step: choosing a file sends it at once (no button to press), with a progress bar
while it goes; a dropped connection is listed in the error summary and 重试 sends the same file again
without choosing it; a file the platform refuses says why; nothing uploaded before is lost. The
same field serves the files an agency asks for in a correction (补正), which waits for them."""

from __future__ import annotations

import asyncio
import hashlib
import re

from playwright.async_api import Route, expect

from e2e.pwa.cases_api import PDF, _client, prepared_draft, submitted_case

PERSON, USCC = "P071", "91350902MA33022893"  # correction_on_registration: registration asks for the report again


def pdf(name: str) -> dict:
    return {"name": name, "mimeType": "application/pdf", "buffer": PDF}


async def signed_in(browser, device, base: str):
    context = await browser.new_context(**device("iPhone SE"), locale="zh-CN")
    page = await context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    await page.goto(base + "/#/cases")
    await page.get_by_test_id("login").click()
    await page.locator("#persona-id").fill(f"person-{PERSON}")
    await page.locator("#persona-id").press("Enter")
    await page.wait_for_url(re.compile(r"#/cases$"))
    await page.wait_for_selector('#view[aria-busy="false"]')
    return context, page


async def ready(page, axe, shot, step: str) -> None:
    assert (violations := await axe(page)) == [], f"{step}:\n" + "\n".join(violations)
    await shot(page, step)


def uploaded_files(base: str, case_id: str) -> list[dict]:
    with _client(base, PERSON) as http:
        return http.get(f"/api/v1/cases/{case_id}").raise_for_status().json()["materials"]


async def test_choosing_a_file_uploads_it_and_a_dropped_upload_is_retried(browser, device, embedded_server, axe, shot):
    base = embedded_server.url
    draft = await asyncio.to_thread(prepared_draft, base, PERSON, USCC, "general", materials=False)
    first, second = [
        m["code"] for m in draft["plan"]["materials"] if not (m["waived"] or m["physical"] or m.get("online"))
    ][:2]
    materials = f"**/api/v1/cases/{draft['id']}/materials"
    context, page = await signed_in(browser, device, base)
    try:
        await page.goto(f"{base}/#/case/{draft['id']}/materials")
        await page.wait_for_selector('#view[aria-busy="false"]')
        field = page.get_by_test_id(f"upload-{first}")
        await expect(field.locator("button:visible")).to_have_count(0)  # nothing to press after choosing
        chooser = await field.locator("input[type=file]").bounding_box()
        assert chooser and chooser["height"] >= 44, chooser  # a touch target of 44 px at least
        await ready(page, axe, shot, "materials")

        # Chosen: it goes at once; the upload is held on its way so the progress bar can be seen.
        go_on = asyncio.Event()

        async def hold(route: Route) -> None:
            await go_on.wait()
            await route.continue_()

        await page.route(materials, hold)
        await field.locator("input[type=file]").set_input_files(pdf("股东会决议.pdf"))
        progress = page.get_by_test_id(f"progress-{first}")
        await expect(progress).to_be_visible()
        await expect(progress).to_contain_text("正在上传“股东会决议.pdf”")
        await expect(progress.get_by_role("progressbar")).to_have_attribute("max", "100")
        await expect(progress).to_contain_text(re.compile(r"\d+%"))
        said = page.get_by_test_id(f"status-{first}")  # a polite live region (role=status)
        await expect(said).to_have_attribute("role", "status")
        await expect(said).to_contain_text("正在上传“股东会决议.pdf”")
        await ready(page, axe, shot, "uploading")
        go_on.set()
        await expect(page.get_by_test_id(f"uploaded-{first}")).to_have_text("已上传：股东会决议.pdf")
        await expect(progress).to_be_hidden()
        await expect(said).to_have_text("“股东会决议.pdf”已上传")
        await page.unroute(materials, hold)

        # The connection drops during the next one: the error summary says so; Retry sends the same file.
        dropped: list[str] = []

        async def drop_once(route: Route) -> None:
            if not dropped:
                dropped.append(route.request.url)
                await route.abort("internetdisconnected")
            else:
                await route.continue_()

        await page.route(materials, drop_once)
        other = page.get_by_test_id(f"upload-{second}")
        await other.locator("input[type=file]").set_input_files(pdf("清算报告.pdf"))
        summary = page.get_by_test_id("error-summary")
        await expect(summary).to_be_focused()
        await expect(summary).to_contain_text("“清算报告.pdf”未能上传：当前没有网络连接，请联网后重试。")
        await expect(other).to_contain_text("“清算报告.pdf”未能上传")
        retry = page.get_by_test_id(f"retry-{second}")
        await expect(retry).to_have_text("重试")
        box = await retry.bounding_box()
        assert box and box["width"] >= 44 and box["height"] >= 44, box
        await expect(page.get_by_test_id(f"uploaded-{first}")).to_have_text("已上传：股东会决议.pdf")  # kept
        await ready(page, axe, shot, "upload-failed")
        await summary.get_by_role("link").click()  # the summary leads to the field
        await expect(other.locator("input[type=file]")).to_be_focused()
        await retry.click()
        await expect(page.get_by_test_id(f"uploaded-{second}")).to_have_text("已上传：清算报告.pdf")
        await expect(summary).to_have_count(0)
        await expect(retry).to_be_hidden()
        await expect(other.locator("input[type=file]")).to_be_focused()  # the Retry button is gone: focus stays here
        assert len(dropped) == 1
        await page.unroute(materials, drop_once)
        kept = await asyncio.to_thread(uploaded_files, base, draft["id"])
        assert [(m["code"], m["filename"]) for m in kept] == [(first, "股东会决议.pdf"), (second, "清算报告.pdf")]
        assert {m["sha256"] for m in kept} == {hashlib.sha256(PDF).hexdigest()}  # the very file chosen

        # A file the platform refuses: its reason, in the reader's language; trying it again cannot help.
        await page.get_by_role("button", name="切换为英文").click()
        await expect(page.locator("#view h1")).to_contain_text("Documents")
        await field.locator("input[type=file]").set_input_files(
            {"name": "notes.txt", "mimeType": "text/plain", "buffer": b"not a scan"}
        )
        refused = "notes.txt could not be uploaded: Only PDF, JPEG and PNG files are accepted."
        await expect(summary).to_contain_text(refused)
        await expect(page.get_by_test_id(f"retry-{first}")).to_be_hidden()
        await expect(page.get_by_test_id(f"uploaded-{first}")).to_have_text("Uploaded: 股东会决议.pdf")
        await ready(page, axe, shot, "upload-refused-en")
        # another file goes too, though the session's access token has expired meanwhile: renewed once, as api() does
        answers: list[int] = []
        page.on("response", lambda r: answers.append(r.status) if r.url.endswith("/materials") else None)
        await context.clear_cookies(name="yjs_access")
        await field.locator("input[type=file]").set_input_files(pdf("resolution.pdf"))
        await expect(page.get_by_test_id(f"uploaded-{first}")).to_have_text("Uploaded: 股东会决议.pdf、resolution.pdf")
        await expect(summary).to_have_count(0)
        assert answers == [401, 201], answers
        assert page.errors == []
    finally:
        await context.close()
        with _client(base, PERSON) as http:  # leave no open draft behind
            http.post(f"/api/v1/cases/{draft['id']}/withdraw", json={}).raise_for_status()


async def correction_requested(base: str, case_id: str) -> dict:
    """The registration item once it asks for a correction (the simulated agency does so at once)."""
    with _client(base, PERSON) as http:
        for _ in range(120):
            view = http.get(f"/api/v1/cases/{case_id}").raise_for_status().json()
            asked = [i for i in view["items"] if i["status"] == "correction_requested"]
            if asked:
                return asked[0]
            await asyncio.sleep(0.5)
    raise AssertionError("no correction was asked for")


async def test_a_file_asked_for_in_a_correction_uploads_at_once(browser, device, embedded_server, axe, shot):
    base = embedded_server.url
    case = await asyncio.to_thread(submitted_case, base, PERSON, USCC, "general")
    item = await correction_requested(base, case["id"])
    (asked,) = [c for c in item["corrections"] if c["kind"] == "material"]
    context, page = await signed_in(browser, device, base)
    try:
        await page.goto(f"{base}/#/case/{case['id']}/correction/{item['ref']}")
        await expect(page.get_by_test_id("correction-form")).to_be_visible()
        await ready(page, axe, shot, "correction")
        go_on = asyncio.Event()

        async def hold(route: Route) -> None:
            await go_on.wait()
            await route.continue_()

        await page.route(f"**/api/v1/cases/{case['id']}/materials", hold)
        await (
            page.get_by_test_id(f"upload-{asked['name']}")
            .locator("input[type=file]")
            .set_input_files(pdf("清算报告（全体签字）.pdf"))
        )
        await expect(page.get_by_test_id(f"progress-{asked['name']}")).to_be_visible()
        # sent while the file is still on its way: the correction waits for it
        await page.get_by_test_id("send-correction").click()
        await expect(page.get_by_test_id("send-correction")).to_be_disabled()
        go_on.set()
        await page.wait_for_function("id => location.hash === '#/case/' + id", arg=case["id"])
        await expect(page.locator(f'[data-testid="correction-{item["ref"]}"]')).to_have_count(0, timeout=10000)
        with _client(base, PERSON) as http:
            view = http.get(f"/api/v1/cases/{case['id']}").raise_for_status().json()
        added = [m for m in view["materials"] if m["filename"] == "清算报告（全体签字）.pdf"]
        assert [m["code"] for m in added] == [asked["name"]]
        events = [e["type"] for e in view["timeline"]]
        assert events.index("material.added", events.index("case.submitted")) < events.index("item.corrected")
        assert page.errors == []
    finally:
        await context.close()
