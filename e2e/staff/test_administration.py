"""Administration in Chromium with a real identity login (sandbox persona ``admin-platform``):
publish a catalog version and roll it back, and manage users and roles, with the error
summary for invalid input. The extended page gets axe-core scans (with and without errors)."""

from __future__ import annotations

import httpx
from playwright.async_api import expect

from e2e.pages.staff import staff_context
from tests.administration.support import clean, restore_catalogs, serve, two_catalog_versions
from tests.servers import run_migrations
from tests.workbench.live import login


async def test_catalog_publication_and_users_and_roles(tmp_path, monkeypatch, browser, axe, shot):
    shipped, newer = two_catalog_versions(tmp_path, monkeypatch)
    url = "sqlite:///" + str(tmp_path / "platform.sqlite")
    run_migrations(database_url=url)
    try:
        async with serve(url, tmp_path) as (app, base):
            await clean(app.state.platform)
            errors: list[str] = []
            context = await staff_context(browser, base, "admin-platform")
            page = await context.new_page()
            page.on("pageerror", lambda exc: errors.append(str(exc)))
            try:
                await page.goto("/staff/admin.html")
                current = page.get_by_test_id("catalog-current")
                await expect(current).to_contain_text(newer)
                await expect(page.get_by_test_id("publication-empty")).to_be_visible()

                # publish the older version, then roll back
                await page.locator("#publish-version").select_option(shipped)
                await page.get_by_label("发布说明（选填）").fill("新版目录暂缓启用")
                await page.locator("#publish-go").click()
                await expect(current).to_contain_text(shipped)
                history = page.get_by_test_id("publication-history")
                await expect(history).to_contain_text("新版目录暂缓启用")
                await expect(page.locator("#rollback-go")).to_have_text(f"回退到上一发布版本（{newer}）")
                await page.locator("#rollback-go").click()
                await expect(current).to_contain_text(newer)
                await expect(history.locator("tbody tr").first).to_contain_text("回退")
                await expect(page.locator("#rollback-go")).to_be_disabled()

                # users and roles: invalid input gives an error summary linked to the fields
                await expect(page.get_by_test_id("staff-empty")).to_be_visible()
                await page.locator("#staff-subject").fill("amr-0042")
                await page.locator("#staff-role-window_staff").check()
                await page.locator("#staff-regions").fill("3501, 99")
                await page.locator("#staff-save").click()
                summary = page.get_by_test_id("staff-error-summary")
                await expect(summary).to_be_visible()
                await expect(summary).to_be_focused()
                await expect(summary).to_contain_text("姓名")
                await expect(summary).to_contain_text("服务大厅")
                await expect(summary).to_contain_text("99")
                await expect(page.locator("#staff-name")).to_have_attribute("aria-invalid", "true")
                await expect(page.get_by_test_id("error-regions")).to_be_visible()
                await summary.get_by_role("link", name="姓名").first.click()
                await expect(page.locator("#staff-name")).to_be_focused()
                assert await axe(page) == []
                await shot(page, "01-staff-errors")

                await page.locator("#staff-name").fill("陈立")
                await page.locator("#staff-role-window_staff").uncheck()
                await page.locator("#staff-role-agency_staff").check()
                await page.locator("#staff-agency-amr").check()
                await page.locator("#staff-regions").fill("3501")
                await page.locator("#staff-save").click()
                row = page.locator('tr[data-subject="amr-0042"]')
                await expect(row).to_contain_text("部门工作人员")
                await expect(page.get_by_test_id("staff-error-summary")).to_have_count(0)

                # change: add the window role with a hall
                await row.get_by_test_id("edit-amr-0042").click()
                await expect(page.locator("#h-staff-form")).to_contain_text("amr-0042")
                await expect(page.locator("#staff-subject")).to_have_attribute("readonly", "")
                await expect(page.get_by_role("button", name="取消修改")).to_be_visible()
                await page.locator("#staff-role-window_staff").check()
                await page.locator("#staff-hall").fill("hall-350100")
                await page.locator("#staff-save").click()
                await expect(row).to_contain_text("窗口工作人员")
                await expect(row).to_contain_text("hall-350100")
                await expect(page.get_by_role("button", name="取消修改")).to_have_count(0)

                await row.get_by_test_id("deactivate-amr-0042").click()
                await expect(row.get_by_test_id("staff-status")).to_have_text("已停用")
                assert await axe(page) == []
                await shot(page, "02-administration")
                assert errors == []
            finally:
                await context.close()

            # the directory now holds what the page saved; others may not use the API
            async with httpx.AsyncClient(base_url=base) as client:
                admin = await login(base, "admin-platform")
                member = (
                    await client.get(
                        "/api/v1/admin/staff/amr-0042", headers={"Authorization": f"Bearer {admin['access_token']}"}
                    )
                ).json()
                assert (member["roles"], member["agencies"], member["regions"], member["hall"], member["active"]) == (
                    ["agency_staff", "window_staff"],
                    ["amr"],
                    ["3501"],
                    "hall-350100",
                    False,
                )
                amr = await login(base, "staff-amr")
                denied = await client.get(
                    "/api/v1/admin/catalog/publications", headers={"Authorization": f"Bearer {amr['access_token']}"}
                )
                assert denied.status_code == 403 and denied.json()["code"] == "forbidden"
    finally:
        monkeypatch.undo()
        restore_catalogs()
