"""Uploading in one step: choosing a file sends it at once (no button to press), with a progress bar
while it goes; a dropped connection is listed in the error summary and 重试 sends the same file again
without choosing it; a file the platform refuses says why; nothing uploaded before is lost. The
same field serves the files an agency asks for in a correction (补正), which waits for them. A wrong
file comes off a draft with its own button."""

from __future__ import annotations

import asyncio
import hashlib
import re

from playwright.async_api import Route, expect

from e2e.pages.pwa import PDF, Journey, login_as
from e2e.pwa.cases_api import _client, prepared_draft, submitted_case, wait_for_item_status

PERSON, USCC = "P071", "91350902MA33022893"  # correction_on_registration: registration asks for the report again


async def on_a_phone(browser, device, base: str, axe, shot) -> tuple:
    """An iPhone SE signed in as ``PERSON``: its browser context and the Journey page object."""
    context = await browser.new_context(**device("iPhone SE"), locale="zh-CN")
    j = Journey(await context.new_page(), base, axe, shot)
    await login_as(j.page, base, PERSON)
    return context, j


def uploaded_files(base: str, case_id: str) -> list[dict]:
    with _client(base, PERSON) as http:
        return http.get(f"/api/v1/cases/{case_id}").raise_for_status().json()["materials"]


async def held(page, url: str) -> asyncio.Event:
    """Hold every request to ``url`` until the returned event is set (an upload seen on its way)."""
    go_on = asyncio.Event()

    async def hold(route: Route) -> None:
        await go_on.wait()
        await route.continue_()

    await page.route(url, hold)
    return go_on


async def test_choosing_a_file_uploads_it_and_a_dropped_upload_is_retried(browser, device, embedded_server, axe, shot):
    base = embedded_server.url
    draft = await asyncio.to_thread(prepared_draft, base, PERSON, USCC, "general", materials=False)
    first, second = [
        m["code"] for m in draft["plan"]["materials"] if not (m["waived"] or m["physical"] or m.get("online"))
    ][:2]
    materials = f"**/api/v1/cases/{draft['id']}/materials"
    context, j = await on_a_phone(browser, device, base, axe, shot)
    page = j.page
    try:
        await j.open(f"#/case/{draft['id']}/materials")
        field = j.testid(f"upload-{first}")
        await expect(field.locator("button:visible")).to_have_count(0)  # nothing to press after choosing
        chooser = await field.locator("input[type=file]").bounding_box()
        assert chooser and chooser["height"] >= 44, chooser  # a touch target of 44 px at least
        await j.check("materials")

        # Chosen: it goes at once; the upload is held on its way so the progress bar can be seen.
        go_on = await held(page, materials)
        await j.choose_file(first, "股东会决议.pdf")
        progress = j.testid(f"progress-{first}")
        await expect(progress).to_be_visible()
        await expect(progress).to_contain_text("正在上传“股东会决议.pdf”")
        await expect(progress.get_by_role("progressbar")).to_have_attribute("max", "100")
        await expect(progress).to_contain_text(re.compile(r"\d+%"))
        said = j.testid(f"status-{first}")  # a polite live region (role=status)
        await expect(said).to_have_attribute("role", "status")
        await expect(said).to_contain_text("正在上传“股东会决议.pdf”")
        await j.check("uploading")
        go_on.set()
        await expect(j.testid(f"uploaded-{first}")).to_have_text("已上传：股东会决议.pdf")
        await expect(progress).to_be_hidden()
        await expect(said).to_have_text("“股东会决议.pdf”已上传")
        await page.unroute(materials)

        # The connection drops during the next one: the error summary says so; Retry sends the same file.
        dropped: list[str] = []

        async def drop_once(route: Route) -> None:
            if not dropped:
                dropped.append(route.request.url)
                await route.abort("internetdisconnected")
            else:
                await route.continue_()

        await page.route(materials, drop_once)
        other = j.testid(f"upload-{second}")
        await j.choose_file(second, "清算报告.pdf")
        summary = j.testid("error-summary")
        await expect(summary).to_be_focused()
        await expect(summary).to_contain_text("“清算报告.pdf”未能上传：当前没有网络连接，请联网后重试。")
        await expect(other).to_contain_text("“清算报告.pdf”未能上传")
        retry = j.testid(f"retry-{second}")
        await expect(retry).to_have_text("重试")
        box = await retry.bounding_box()
        assert box and box["width"] >= 44 and box["height"] >= 44, box
        await expect(j.testid(f"uploaded-{first}")).to_have_text("已上传：股东会决议.pdf")  # kept
        await j.check("upload-failed")
        await summary.get_by_role("link").click()  # the summary leads to the field
        await expect(other.locator("input[type=file]")).to_be_focused()
        await retry.click()
        await expect(j.testid(f"uploaded-{second}")).to_have_text("已上传：清算报告.pdf")
        await expect(summary).to_have_count(0)
        await expect(retry).to_be_hidden()
        await expect(other.locator("input[type=file]")).to_be_focused()  # the Retry button is gone: focus stays here
        assert len(dropped) == 1
        await page.unroute(materials)
        kept = await asyncio.to_thread(uploaded_files, base, draft["id"])
        assert [(m["code"], m["filename"]) for m in kept] == [(first, "股东会决议.pdf"), (second, "清算报告.pdf")]
        assert {m["sha256"] for m in kept} == {hashlib.sha256(PDF).hexdigest()}  # the very file chosen

        # A file the platform refuses: its reason, in the reader's language; trying it again cannot help.
        await page.get_by_role("button", name="切换为英文").click()
        await expect(page.locator("#view h1")).to_contain_text("Documents")
        # Chinese words on the English page are marked as Chinese for screen readers (WCAG 3.1.2)
        await expect(page.locator('#view h1 .caption [lang="zh-CN"]')).to_have_text(draft["enterprise_name"])
        await expect(j.testid(f"uploaded-{first}").locator('bdi[lang="zh-CN"]')).to_have_text("股东会决议.pdf")
        await j.choose_file(first, "notes.txt", b"not a scan", "text/plain")
        refused = "notes.txt could not be uploaded: Only PDF, JPEG and PNG files are accepted."
        await expect(summary).to_contain_text(refused)
        await expect(j.testid(f"retry-{first}")).to_be_hidden()
        await expect(j.testid(f"uploaded-{first}")).to_have_text("Uploaded: 股东会决议.pdf")
        await j.check("upload-refused-en")
        # another file goes too, though the session's access token has expired meanwhile: renewed once, as api() does
        answers: list[int] = []
        page.on("response", lambda r: answers.append(r.status) if r.url.endswith("/materials") else None)
        await context.clear_cookies(name="yjs_access")
        await j.choose_file(first, "resolution.pdf")
        await expect(j.testid(f"uploaded-{first}")).to_have_text("Uploaded: 股东会决议.pdf、resolution.pdf")
        await expect(summary).to_have_count(0)
        assert answers == [401, 201], answers

        # The wrong file comes off again (a draft only): the field says so and keeps the focus.
        field = j.testid(f"upload-{first}")
        remove = field.get_by_role("button", name="Remove resolution.pdf")
        box = await remove.bounding_box()
        assert box and box["height"] >= 44, box
        await j.check("upload-removable")
        await remove.click()
        await expect(j.testid(f"uploaded-{first}")).to_have_text("Uploaded: 股东会决议.pdf")
        await expect(j.testid(f"status-{first}")).to_have_text("resolution.pdf removed")
        await expect(field.locator("input[type=file]")).to_be_focused()
        await expect(field.get_by_role("button", name=re.compile("^Remove"))).to_have_count(1)
        kept = await asyncio.to_thread(uploaded_files, base, draft["id"])
        assert [m["filename"] for m in kept] == ["股东会决议.pdf", "清算报告.pdf"]
        assert j.errors == []
    finally:
        await context.close()
        with _client(base, PERSON) as http:  # leave no open draft behind
            http.post(f"/api/v1/cases/{draft['id']}/withdraw", json={}).raise_for_status()


async def test_a_file_asked_for_in_a_correction_uploads_at_once(browser, device, embedded_server, axe, shot):
    base = embedded_server.url
    case = await asyncio.to_thread(submitted_case, base, PERSON, USCC, "general")
    view = await asyncio.to_thread(wait_for_item_status, base, PERSON, case["id"], "correction_requested")
    (item,) = [i for i in view["items"] if i["status"] == "correction_requested"]
    (asked,) = [c for c in item["corrections"] if c["kind"] == "material"]
    context, j = await on_a_phone(browser, device, base, axe, shot)
    try:
        await j.open(f"#/case/{case['id']}/correction/{item['ref']}")
        await expect(j.testid("correction-form")).to_be_visible()
        await j.check("correction")
        # sent without the file: nothing goes, and the summary leads to the file's field
        await j.testid("send-correction").click()
        summary = j.testid("error-summary")
        await expect(summary).to_be_focused()
        await expect(summary).to_contain_text(f"请上传：{asked['label']['zh']}。")
        await summary.get_by_role("link").click()
        await expect(j.page.locator(f"#m-{asked['name']}")).to_be_focused()
        go_on = await held(j.page, f"**/api/v1/cases/{case['id']}/materials")
        await j.choose_file(asked["name"], "清算报告（全体签字）.pdf")
        await expect(j.testid(f"progress-{asked['name']}")).to_be_visible()
        # sent while the file is still on its way: the correction waits for it
        await j.testid("send-correction").click()
        await expect(j.testid("send-correction")).to_be_disabled()
        go_on.set()
        await j.wait_route(rf"#/case/{case['id']}$")
        await expect(j.testid(f"correction-{item['ref']}")).to_have_count(0, timeout=10000)
        with _client(base, PERSON) as http:
            view = http.get(f"/api/v1/cases/{case['id']}").raise_for_status().json()
        added = [m for m in view["materials"] if m["filename"] == "清算报告（全体签字）.pdf"]
        assert [m["code"] for m in added] == [asked["name"]]
        events = [e["type"] for e in view["timeline"]]
        assert events.index("material.added", events.index("case.submitted")) < events.index("item.corrected")
        assert j.errors == []
    finally:
        await context.close()
