"""测试问题反馈 in Chromium with real logins: a city AMR officer files a problem with a screenshot
from the staff page, the platform team triages, starts and fixes it on the same page, the reporter
confirms it, and the statistics follow. Every state is scanned with axe-core."""

from __future__ import annotations

from playwright.async_api import expect

from e2e.pages.staff import staff_context
from tests.feedback.test_feedback_api import tiny_png
from tests.workbench.live import base_url, serve_backoffice


async def test_a_problem_is_filed_fixed_and_confirmed_on_the_staff_page(tmp_path, monkeypatch, browser, axe, shot):
    async with serve_backoffice(tmp_path, monkeypatch) as app:
        base = base_url(app)
        errors: list[str] = []
        shot_file = tmp_path / "shot.png"
        shot_file.write_bytes(tiny_png())

        reporter = await staff_context(browser, base, "staff-amr-fuzhou")
        page = await reporter.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto("/staff/feedback.html")
        await expect(page.get_by_test_id("feedback-total")).to_have_text("0")
        assert await axe(page) == []
        await page.get_by_role("button", name="提交问题").click()  # nothing filled in: the field is named
        await expect(page.get_by_test_id("error")).to_be_visible()
        await page.get_by_label("页面或地址").fill("/staff/workbench.html")
        await page.get_by_label("操作步骤").fill("打开待办事项，点击“办结”")
        await page.get_by_label("预期结果").fill("事项办结")
        await page.get_by_label("实际结果").fill("提示网络错误")
        await page.get_by_label("截图（PNG 或 JPEG，不超过 2 MB，可不传）").set_input_files(str(shot_file))
        await page.get_by_role("button", name="提交问题").click()
        await expect(page.get_by_test_id("ok")).to_contain_text("问题已提交")
        report = page.get_by_test_id("feedback-report")
        await expect(report).to_have_count(1)
        await expect(report).to_contain_text("新提交 · 福建省市场监管智慧应用一体化平台 · 市级")
        await expect(report.get_by_role("link", name="查看截图")).to_be_visible()
        await expect(page.get_by_test_id("feedback-by-agency")).to_contain_text("福建省市场监管智慧应用一体化平台")
        assert await axe(page) == []
        await shot(page, "filed")

        team = await staff_context(browser, base, "admin-platform")
        admin_page = await team.new_page()
        admin_page.on("pageerror", lambda exc: errors.append(str(exc)))
        await admin_page.goto("/staff/feedback.html")
        card = admin_page.get_by_test_id("feedback-report")
        await expect(card).to_have_count(1)
        await card.get_by_label("严重程度").select_option("major")
        await card.get_by_label("处理人").fill("王工")
        await card.get_by_role("button", name="分级并指派").click()
        await expect(card).to_contain_text("已分派 · 福建省市场监管智慧应用一体化平台 · 市级 · 严重")
        await card.get_by_role("button", name="开始处理").click()
        await expect(card).to_contain_text("处理中")
        await card.get_by_role("button", name="标记为已修复").click()
        await expect(card).to_contain_text("已修复，待确认")
        assert await axe(admin_page) == []

        await page.reload()
        report = page.get_by_test_id("feedback-report")
        await expect(report).to_contain_text("已修复，待确认")
        await report.get_by_role("button", name="确认已解决").click()
        await expect(report).to_contain_text("已确认解决")
        await expect(report.locator("li")).to_have_count(5)  # filed, triaged, in progress, fixed, confirmed
        await shot(page, "confirmed")
        assert errors == []
        await reporter.close()
        await team.close()
