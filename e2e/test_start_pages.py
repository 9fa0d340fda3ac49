"""The start pages on phones and on the kiosk: they load, read in both languages, scale
for older users and pass an axe-core scan."""

from __future__ import annotations

import pytest

from e2e.conftest import PHONES


@pytest.mark.parametrize("name", PHONES)
async def test_pwa_start_page_on_phones(browser, device, embedded_server, axe, shot, name):
    context = await browser.new_context(**device(name), locale="zh-CN")
    page = await context.new_page()
    errors: list[str] = []
    page.on("pageerror", lambda exc: errors.append(str(exc)))
    await page.goto(embedded_server.url + "/")
    await page.wait_for_selector('[data-testid="guides"][aria-busy="false"]')
    assert await page.locator("h1").inner_text() == "企业注销登记“一件事”"
    assert await page.locator('[data-testid="matters"] li').count() == 6
    assert await page.locator('[data-testid="guides"] a').count() == 12  # one guide per entity type
    # nothing is wider than the screen (usable at 320px)
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth")
    assert (violations := await axe(page)) == [], "\n".join(violations)
    await shot(page, "zh")

    await page.get_by_role("button", name="切换为英文").click()
    await page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert "Close down an enterprise" in await page.locator("h1").inner_text()
    before = await page.evaluate("parseFloat(getComputedStyle(document.querySelector('h1')).fontSize)")
    await page.get_by_role("button", name="Large text").click()
    after = await page.evaluate("parseFloat(getComputedStyle(document.querySelector('h1')).fontSize)")
    assert after > before * 1.2
    assert (violations := await axe(page)) == [], "\n".join(violations)
    await shot(page, "en-large")

    await page.reload()  # preferences persist
    await page.wait_for_function("() => document.documentElement.lang === 'en'")
    assert await page.evaluate("document.documentElement.dataset.textSize") == "large"
    assert errors == []
    await context.close()


async def test_guide_page_reads_well_on_a_phone(browser, device, embedded_server, axe, shot):
    context = await browser.new_context(**device("iPhone SE"), locale="zh-CN")
    page = await context.new_page()
    await page.goto(embedded_server.url + "/")
    await page.locator('[data-testid="guides"] a').first.click()
    await page.wait_for_load_state()
    assert "/api/v1/guides/" in page.url
    assert "办事指南" in await page.title()
    assert await page.evaluate("document.documentElement.scrollWidth <= window.innerWidth + 1")
    assert (violations := await axe(page)) == [], "\n".join(violations)
    await shot(page, "guide")
    await context.close()


@pytest.mark.parametrize("name", ["kiosk-portrait", "kiosk-landscape"])
async def test_kiosk_attract_screen(browser, device, embedded_server, axe, shot, name):
    context = await browser.new_context(**device(name), locale="zh-CN")
    page = await context.new_page()
    await page.goto(embedded_server.url + "/kiosk/")
    await page.wait_for_selector('[data-testid="guides"][aria-busy="false"]')
    # every touch target is at least 48px high and wide
    small = await page.evaluate(
        """[...document.querySelectorAll('a, button')].filter(el => {
             const r = el.getBoundingClientRect(); return r.width > 0 && (r.width < 48 || r.height < 48);
           }).map(el => el.textContent.trim())"""
    )
    assert small == []
    assert (violations := await axe(page)) == [], "\n".join(violations)
    await shot(page, "attract")
    await context.close()
