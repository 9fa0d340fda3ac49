"""The case at a glance (issue 22): a 10-matter case on a small phone, in Chinese and in English,
on a device set to another time zone. What to do now comes first; each matter is one row with its
status, dates and what it closes (which bank account, which seals), by name and never by code;
the whole page is under three iPhone SE screens and every status is on the first. Also: the
confirmation's promised days, the pre-check's to-do naming each field, and a blocked submission."""

from __future__ import annotations

import asyncio
import json
from datetime import datetime
from zoneinfo import ZoneInfo

import pytest
from playwright.async_api import expect

from e2e.pages.pwa import login_as
from e2e.pwa.cases_api import _client, prepared_draft, submitted_case
from e2e.readable import unreadable

PERSON, USCC = "P002", "91350102MA0102003U"  # happy_path_all_items: 3 bank accounts, seals in 2 systems → 10 items
ELSEWHERE = "America/Los_Angeles"  # 16 hours behind China: a late-afternoon time there is the next day in China
SCREENS = 2000  # CSS px: three iPhone SE screens


@pytest.fixture(scope="module")
def ten_items(embedded_server) -> dict:
    """A submitted case of ten items, left to the simulated agencies to complete."""
    case = submitted_case(embedded_server.url, PERSON, USCC, "general")
    assert len(case["items"]) == 10
    return case


async def signed_in(browser, device, base: str, name: str, locale: str):
    context = await browser.new_context(**device(name), locale=locale, timezone_id=ELSEWHERE)
    await context.add_init_script(f"localStorage.setItem('yjs.locale', {json.dumps(locale)})")
    page = await context.new_page()
    page.errors = []  # type: ignore[attr-defined]
    page.on("pageerror", lambda exc: page.errors.append(str(exc)))
    await login_as(page, base, PERSON)
    return context, page


def cst_date(ms: int, locale: str) -> str:
    """A date as the page must show it: the day in China, in the page's language (medium style)."""
    d = datetime.fromtimestamp(ms / 1000, ZoneInfo("Asia/Shanghai"))
    return f"{d.year}年{d.month}月{d.day}日" if locale == "zh-CN" else f"{d:%b} {d.day}, {d.year}"


async def heading_focus_is_quiet(page) -> None:
    """Focus is on the page heading (for screen readers) with no ring drawn round it, and the
    heading has room under the header."""
    state = await page.evaluate(
        """() => { const h = document.querySelector('#view h1'); const s = getComputedStyle(h);
                   return { focused: document.activeElement === h, outline: s.outlineStyle, shadow: s.boxShadow,
                            gap: h.getBoundingClientRect().top
                                 - document.querySelector('.site-header').getBoundingClientRect().bottom }; }"""
    )
    assert state["focused"] and state["outline"] == "none" and state["shadow"] == "none", state
    assert state["gap"] >= 16, state


@pytest.mark.parametrize(("name", "locale"), [("iPhone SE", "zh-CN"), ("iPhone SE", "en"), ("Pixel 7", "zh-CN")])
async def test_the_case_at_a_glance(browser, device, embedded_server, ten_items, axe, shot, name, locale):
    base, case = embedded_server.url, ten_items
    context, page = await signed_in(browser, device, base, name, locale)
    try:
        await page.goto(f"{base}/#/case/{case['id']}")
        await page.wait_for_selector('#view[aria-busy="false"]')
        await expect(page.get_by_test_id("case-summary")).to_contain_text(case["number"])
        rows = page.locator('[data-testid^="item-"][data-status]')
        await expect(rows).to_have_count(10)
        await heading_focus_is_quiet(page)
        await expect(page.get_by_test_id("case-now")).to_be_visible()

        # every matter's status on the first screen; the whole page within three screens (iPhone SE)
        viewport = page.viewport_size["height"]
        bottoms = await page.eval_on_selector_all(
            '[data-testid="matter-status"]', "els => els.map((e) => e.getBoundingClientRect().bottom)"
        )
        assert len(bottoms) == 10 and max(bottoms) <= viewport, (bottoms, viewport)
        height = await page.evaluate("document.documentElement.scrollHeight")
        print(f"{name} {locale}: case page {height} CSS px")
        if name == "iPhone SE":
            assert height <= SCREENS, height

        # bank accounts and seals told apart: bank, kind and the last four digits; seal kinds and system
        subjects = [s.strip() for s in await page.get_by_test_id("matter-subject").all_inner_texts()]
        banks = [s for s in subjects if "…" in s]
        assert len(banks) == 3 and len(set(banks)) == 3, subjects
        assert len([s for s in subjects if "·" in s]) == 2 and len(set(subjects)) == len(subjects), subjects
        text = await page.locator("#view").inner_text()
        for account in ("1023501001010000", "1033501001020001"):
            assert account not in text  # never the whole account number
        assert "customs-fz" not in text and "simplified_publicity" not in text

        # times in China Standard Time whatever the device's zone
        assert cst_date(case["submitted_at"], locale) in await page.get_by_test_id("case-summary").inner_text()
        days = str(case["promised_days"])
        await expect(page.get_by_test_id("case-summary")).to_contain_text(days)

        # details expand: the office by name for customs
        customs = page.get_by_test_id(f"item-{case['id']}.CUSTOMS")
        await customs.get_by_test_id("matter-toggle").click()
        await expect(customs.get_by_test_id("matter-toggle")).to_have_attribute("aria-expanded", "true")
        await expect(customs).to_contain_text("福州海关" if locale == "zh-CN" else "Fuzhou Customs")
        if locale == "en":  # headed by a short name ("Customs filing"); the official name is in the details
            await expect(customs).to_contain_text("Customs declarant filing deregistration")
        assert (violations := await axe(page)) == [], "\n".join(violations)
        await shot(page, "case")

        # the confirmation says how many working days are promised
        await page.goto(f"{base}/#/case/{case['id']}/done")
        await page.wait_for_selector('[data-testid="promised-days"]')
        await expect(page.get_by_test_id("promised-days")).to_contain_text(f" {days} ")
        assert await unreadable(page) == []
        assert page.errors == []
    finally:
        await context.close()


@pytest.mark.parametrize("locale", ["zh-CN", "en"])
async def test_the_precheck_names_each_field_and_links_to_it(browser, device, embedded_server, locale):
    base = embedded_server.url
    with _client(base, PERSON) as http:  # a draft with every answer and an empty form
        view = http.post("/api/v1/cases", json={"uscc": USCC}).raise_for_status().json()
        answers = {p["field"].removeprefix("answers."): False for p in view["plan_problems"]} | {"route": "general"}
        view = http.patch(f"/api/v1/cases/{view['id']}", json={"answers": answers}).raise_for_status().json()
        blank = {k: None for k in view["form_data"] if k in view["plan"]["form"].get("required", [])}
        http.patch(f"/api/v1/cases/{view['id']}", json={"form_data": blank}).raise_for_status()
    context, page = await signed_in(browser, device, base, "iPhone SE", locale)
    try:
        await page.goto(f"{base}/#/case/{view['id']}/precheck")
        todo = page.get_by_test_id("precheck-missing").get_by_role("link")
        await expect(todo.first).to_be_visible()
        texts = [t.strip() for t in await todo.all_inner_texts()]
        assert texts and not [t for t in texts if t in ("必填", "required") or len(t) < 4], texts
        assert await unreadable(page) == []
        form_links = page.locator('[data-testid="precheck-missing"] a[href*="/form?field="]')
        target = (await form_links.first.get_attribute("href")).rsplit("=", 1)[1]
        await form_links.first.click()
        await expect(page.locator(f"#f-{target}")).to_be_focused()
        # dates with the phone's own date picker; 清算组负责人 comes from the register, shown with its source
        await page.goto(f"{base}/#/case/{view['id']}/form?field=dissolution_date")
        await expect(page.locator("#f-dissolution_date")).to_be_focused()
        assert await page.locator("#f-dissolution_date").get_attribute("type") == "date"
        await expect(page.get_by_test_id("register-facts")).to_contain_text("林晓燕")
        assert await page.locator("#f-liquidation_group_head").count() == 0
    finally:
        await context.close()


async def test_a_blocked_submission_shows_its_blockers(browser, device, embedded_server):
    """The API refuses a draft something blocks (422 case_blocked): the page lists the blockers, not a generic error."""
    base = embedded_server.url
    draft = await asyncio.to_thread(prepared_draft, base, PERSON, USCC, "general")
    context, page = await signed_in(browser, device, base, "Pixel 7", "zh-CN")
    try:
        await page.route(  # the applicant's own steps done (kept on the server: /progress)
            f"**/api/v1/cases/{draft['id']}/progress",
            lambda route: route.fulfill(
                json={"enterprise_checked": True, "form_confirmed": True, "face": {"status": "passed"}}
            ),
        )
        blocked = {
            "type": "/problems/case-blocked",
            "title": "Unprocessable Content",
            "status": 422,
            "code": "case_blocked",
            "detail": "存在不能提交的情形，请先按提示处理。",
            "errors": [{"field": "blockers.unpaid_tax", "code": "unpaid_tax", "message": "企业尚有未缴清的税款。"}],
            "blockers": [
                {"code": "unpaid_tax", "message": {"zh": "企业尚有未缴清的税款。", "en": "Taxes are unpaid."}}
            ],
        }
        await page.route(
            f"**/api/v1/cases/{draft['id']}/submit",
            lambda route: route.fulfill(
                status=422, content_type="application/problem+json", body=json.dumps(blocked, ensure_ascii=False)
            ),
        )
        await page.route(  # signatures done (the sandbox has none for this draft yet)
            f"**/api/v1/cases/{draft['id']}/signatures",
            lambda route: route.fulfill(json={"documents": [], "complete": True, "missing": []}),
        )
        await page.goto(f"{base}/#/case/{draft['id']}/submit")
        await page.get_by_test_id("submit").click()
        box = page.get_by_test_id("submit-blockers")
        await expect(box).to_be_visible()
        await expect(box).to_contain_text("企业尚有未缴清的税款。")
        await expect(box).to_be_focused()
        await expect(page.get_by_test_id("error-summary")).to_have_count(0)
    finally:
        await context.close()
