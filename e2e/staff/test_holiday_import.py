"""节假日安排 in Chromium: an administrator sees which years are estimated (and, from 1 November,
the warning), previews an arrangement's changes and imports it; the import log records it."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

from playwright.async_api import expect

from backend.lib.workdays import default_calendar
from e2e.pages.staff import staff_context
from tests.administration.support import clean, serve
from tests.servers import run_migrations

CST = timezone(timedelta(hours=8))


async def test_preview_and_import_a_holiday_arrangement(tmp_path, browser, axe, shot):
    url = "sqlite:///" + str(tmp_path / "platform.sqlite")
    run_migrations(database_url=url)
    today = datetime.now(CST).date()
    year = today.year + 1
    warned = default_calendar().missing_next_year(today) == year  # the real clock: from 1 November
    async with serve(url, tmp_path) as (app, base):
        await clean(app.state.platform)
        errors: list[str] = []
        context = await staff_context(browser, base, "admin-platform")
        page = await context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            await page.goto("/staff/admin.html")
            years = page.get_by_test_id("holiday-years")
            await expect(years).to_contain_text(f"{year}（推算，预计）")
            if warned:
                await expect(page.get_by_test_id("holiday-warning")).to_contain_text(f"{year}年节假日安排尚未导入")

            await page.locator("#holiday-year").fill(str(year))
            await page.get_by_label("依据（通知名称或网址）").fill(
                f"国务院办公厅关于{year}年部分节假日安排的通知（测试）"
            )
            await page.get_by_label("放假日期").fill(f"{year}-01-01\n{year}-01-02\n{year}-01-03")
            await page.locator("#holiday-preview").click()
            diff = page.get_by_test_id("holiday-diff")
            await expect(diff).to_contain_text(f"{year}-01-02")
            await expect(diff).to_contain_text("此前按法定节假日推算")
            assert await axe(page) == []
            await shot(page, "holiday-preview")

            await page.locator("#holiday-import").click()
            await expect(page.get_by_test_id("holiday-imports")).to_contain_text(f"{year}年部分节假日安排")
            await expect(years).not_to_contain_text(f"{year}（推算，预计）")
            await expect(page.get_by_test_id("holiday-warning")).to_have_count(0)
            assert errors == []
        finally:
            await context.close()
