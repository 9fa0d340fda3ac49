"""The applicant's PWA as QA drives it: the ``Journey`` page object and the steps several scenarios
share (signing in through the sandbox, the merged form page by page, a second device)."""

from __future__ import annotations

import re
import time

from playwright.async_api import Locator, Page, expect

from tests.cases.support import TINY_PDF

PERSONA = "applicant-p002"  # 林晓燕 (P002), legal representative of 91350102MA0102003U, on the persona picker
PDF = TINY_PDF  # one page: a PDF without pages is refused as damaged


class Journey:
    """Page object: the PWA on one phone, with an axe scan and a screenshot per step."""

    def __init__(self, page: Page, base: str, axe, shot) -> None:
        self.page, self.base, self.axe, self.shot = page, base, axe, shot
        self.steps = 0
        self.started = time.monotonic()
        self.errors: list[str] = []
        page.on("pageerror", lambda exc: self.errors.append(str(exc)))

    async def check(self, name: str) -> None:
        """The page is ready: scan it, check nothing overflows a phone screen, keep a screenshot."""
        await self.page.wait_for_selector('#view[aria-busy="false"], #start-page:not([hidden])')
        violations = await self.axe(self.page)
        assert violations == [], f"{name}:\n" + "\n".join(violations)
        assert await self.page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1"), (
            f"{name} overflows"
        )
        self.steps += 1
        print(f"{time.monotonic() - self.started:6.1f}s {name}")
        await self.shot(self.page, f"{self.steps:02d}-{name}")

    async def heading(self) -> str:
        return (await self.page.locator("#view h1").inner_text()).strip()

    def testid(self, value: str) -> Locator:
        return self.page.get_by_test_id(value)

    async def open(self, route: str) -> None:
        """Go straight to a hash route (``#/case/<id>/materials``) and wait until the page is drawn."""
        await self.page.goto(f"{self.base}/{route}")
        await self.page.wait_for_selector('#view[aria-busy="false"]')

    async def wait_route(self, pattern: str) -> None:
        await self.page.wait_for_function("re => new RegExp(re).test(location.hash)", arg=pattern)
        await self.page.wait_for_selector('#view[aria-busy="false"]')

    async def choose_file(self, code: str, name: str, content: bytes = PDF, mime: str = "application/pdf") -> None:
        """Choose a file for material ``code`` (its field ``upload-<code>``): that alone uploads it."""
        field = self.testid(f"upload-{code}")
        await field.locator("input[type=file]").set_input_files({"name": name, "mimeType": mime, "buffer": content})


async def login(j: Journey, then: str = r"#/enterprises$") -> None:
    """Sign in by the persona picker's button (``PERSONA``), from a page that asks to sign in."""
    page = j.page
    await j.testid("login").click()
    await page.wait_for_url(re.compile(r"/sandbox/oidc/authorize"))
    await j.shot(page, "00-persona-picker")
    await page.get_by_test_id(f"persona-{PERSONA}").click()
    await page.wait_for_url(re.compile(then))


async def login_as(page: Page, base: str, person: str) -> None:
    """Sign in as any fixture person (``P075``: the picker's free-text field), landing on my applications."""
    await page.goto(base + "/#/cases")
    await page.get_by_test_id("login").click()
    await page.locator("#persona-id").fill(f"person-{person}")
    await page.locator("#persona-id").press("Enter")
    await page.wait_for_url(re.compile(r"#/cases$"))
    await page.wait_for_selector('#view[aria-busy="false"]')


async def fill_form_pages(j: Journey) -> None:
    """The merged form, a few fields a page ("第 1 步，共 4 步"), up to check answers."""
    page, errors_seen = j.page, False
    for step in range(1, 10):
        await expect(j.testid("form-step")).to_contain_text(re.compile(rf"第 {step} 步，共 \d+ 步"))
        if not errors_seen and await page.locator("#f-tax_settled").count():
            await j.testid("save-form").click()  # declarations not ticked yet: errors with links
            await expect(j.testid("error-summary")).to_be_visible()
            await j.check("form-errors")
            errors_seen = True
        reason = page.get_by_label("股东会（出资人、合伙人、成员大会）决议解散")
        if await reason.count():
            await reason.check()
        for key in ("investors_commitment", "tax_settled", "invoices_cancelled", "si_settled"):
            if await page.locator(f"#f-{key}").count():
                await page.locator(f"#f-{key}").check()
        if await page.locator("#f-si_unit_number").count():
            await page.locator("#f-si_unit_number").fill("35010200012345")
        await j.check(f"form-{step}")
        await j.testid("save-form").click()
        await j.wait_route(rf"(/form\?page={step + 1}|/check)$")
        if page.url.endswith("/check"):
            assert errors_seen
            return
    raise AssertionError("the form never reached check answers")


async def same_progress_elsewhere(j: Journey, context, server, case_id: str) -> None:
    """A second browser (a fresh context: nothing on the device) shows the steps done on the first."""
    other = await j.page.context.browser.new_context(viewport=j.page.viewport_size, locale="zh-CN")
    try:
        elsewhere = Journey(await other.new_page(), server.url, j.axe, j.shot)
        await elsewhere.page.goto(f"{server.url}/#/case/{case_id}/tasks")
        await elsewhere.page.wait_for_selector('#view[aria-busy="false"]')
        await login(elsewhere, then=rf"#/case/{case_id}/tasks$")
        await elsewhere.wait_route(r"/tasks$")
        for task in ("enterprise", "form", "face"):
            await expect(elsewhere.testid(f"task-{task}")).to_contain_text("已完成")
        assert elsewhere.errors == []
    finally:
        await other.close()
