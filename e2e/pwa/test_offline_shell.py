"""The service worker's offline app shell: once visited, the start page opens without a network."""

from __future__ import annotations

from playwright.async_api import expect


async def test_start_page_opens_offline(browser, device, embedded_server, axe, shot):
    context = await browser.new_context(**device("Pixel 7"), locale="zh-CN")
    page = await context.new_page()
    await page.goto(embedded_server.url + "/")
    await page.wait_for_function("() => navigator.serviceWorker.controller !== null")
    names = await page.evaluate("caches.keys()")
    assert any(n.startswith("yjs-shell-") for n in names)  # versioned cache name

    await context.set_offline(True)
    await page.reload()
    await expect(page.locator("h1")).to_have_text("企业注销登记“一件事”")
    await expect(page.get_by_test_id("offline-banner")).to_be_visible()
    assert (violations := await axe(page)) == [], "\n".join(violations)
    await shot(page, "offline-start")
    await context.close()
