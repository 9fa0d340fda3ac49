"""征求意见 in Chromium with real logins: the platform team opens a catalog version for comments, a
tax officer comments on an item's materials section, the team replies, is refused publication
while the comment is open, resolves it and publishes. Every state is scanned with axe-core."""

from __future__ import annotations

import pytest
from playwright.async_api import expect

from e2e.pages.staff import staff_context
from tests.administration.support import restore_catalogs, two_catalog_versions
from tests.workbench.live import base_url, serve_backoffice


@pytest.fixture
def versions(tmp_path, monkeypatch):
    """(shipped, newer): two catalog versions, the newer being the loader's default."""
    yield two_catalog_versions(tmp_path, monkeypatch)
    monkeypatch.undo()
    restore_catalogs()


async def test_comments_are_resolved_before_the_version_is_published(
    tmp_path, monkeypatch, versions, browser, axe, shot
):
    shipped, _newer = versions
    async with serve_backoffice(tmp_path, monkeypatch) as app:
        base = base_url(app)
        errors: list[str] = []
        team = await staff_context(browser, base, "admin-platform")
        admin = await team.new_page()
        admin.on("pageerror", lambda exc: errors.append(str(exc)))
        await admin.goto("/staff/consultation.html")
        await admin.get_by_label("目录版本").fill(shipped)
        await admin.get_by_label("说明").fill("请于 5 个工作日内反馈")
        await admin.get_by_role("button", name="发起征求意见").click()
        await expect(admin.get_by_test_id("consultation-counts")).to_have_text("意见 0 条，未处理 0 条")
        assert await axe(admin) == []

        officer = await staff_context(browser, base, "staff-etax")
        page = await officer.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        await page.goto("/staff/consultation.html")
        await page.get_by_label("事项").select_option("TAX-UNIFIED")
        await page.get_by_label("指南章节").select_option("materials")
        await page.get_by_label("意见内容").fill("清税证明应由系统自动获取")
        await page.get_by_role("button", name="提交意见").click()
        await expect(page.get_by_test_id("comment")).to_contain_text("一照一码户清税申报 · 申请材料 · 待处理")
        await expect(page.get_by_role("button", name="处理意见")).to_have_count(0)  # only the platform team resolves
        assert await axe(page) == []

        await admin.reload()
        comment = admin.get_by_test_id("comment")
        await comment.get_by_label("回复内容").fill("已与税务部门核实")
        await comment.get_by_role("button", name="回复").click()
        await expect(admin.get_by_test_id("comment")).to_contain_text("已与税务部门核实")
        await admin.get_by_role("button", name="发布此版本").click()
        await expect(admin.get_by_test_id("error")).to_contain_text("1 条意见未处理")
        comment = admin.get_by_test_id("comment")
        await comment.get_by_label("处理结果").select_option("adopted")
        await comment.get_by_label("处理理由").fill("改为部门间共享获取")
        await comment.get_by_role("button", name="处理意见").click()
        await expect(admin.get_by_test_id("comment")).to_contain_text("已处理：采纳")
        await admin.get_by_role("button", name="发布此版本").click()
        await expect(admin.get_by_test_id("ok")).to_have_text("已发布。")
        await expect(admin.get_by_test_id("consultation")).to_contain_text("已结束")
        assert await axe(admin) == []
        await shot(admin, "published")
        assert errors == []
        await team.close()
        await officer.close()
