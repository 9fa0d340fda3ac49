"""The back-office pages in Chromium with real identity logins (sandbox personas): administration
(switch a system to manual, catalog diff), statistics (figures, inline SVG trend, CSV export),
好差评 follow-up (回访 recorded from the page), window assistance, and the public transparency
page without any login. Every page gets an axe-core scan; HTTP checks of scope and login."""

from __future__ import annotations

import re

import httpx
from playwright.async_api import expect

from backend.workbench import admin
from backend.workbench.service import Workbench
from e2e.pages.staff import staff_context
from tests.cases.live import wait_until
from tests.cases.support import TINY_PDF
from tests.cases.test_case_service import complete_draft
from tests.workbench.live import base_url, login, serve_backoffice
from tests.workbench.support import ADMIN, APPLICANT, STAFF_ETAX, item_by_code


async def test_back_office_pages(tmp_path, monkeypatch, browser, axe, shot):
    async with serve_backoffice(tmp_path, monkeypatch) as app:
        platform = app.state.platform
        base = base_url(app)
        await admin.set_mode(platform, ADMIN, "etax", "manual")
        draft = await complete_draft(platform, APPLICANT)
        await platform.cases.submit(APPLICANT, draft.id, "e2e-pages")

        async def tax_sent():
            tax = item_by_code(await platform.cases.view(APPLICANT, draft.id, with_plan=False), "TAX-")
            return tax if tax.status == "sent" else None

        tax = await wait_until(tax_sent, 30)
        await Workbench(platform).approve(STAFF_ETAX, tax.ref, "清税证明.pdf", TINY_PDF)
        applicant = await login(base, "applicant-p002")
        async with httpx.AsyncClient(
            base_url=base, headers={"Authorization": f"Bearer {applicant['access_token']}"}
        ) as client:
            answer = await client.post(
                "/api/v1/ratings/matters",
                json={
                    "case_id": draft.id,
                    "item_ref": tax.ref,
                    "level": 2,
                    "indicators": ["slow"],
                    "comment": "进度不透明",
                },
            )
            assert answer.status_code == 201, answer.text
            bad_id = answer.json()["follow_up_id"]
            again = await client.post(
                "/api/v1/ratings/matters", json={"case_id": draft.id, "item_ref": tax.ref, "level": 5}
            )
            assert again.status_code == 409 and again.json()["code"] == "already_rated"

        # scope and login over HTTP
        async with httpx.AsyncClient(base_url=base) as client:
            assert (await client.get("/api/v1/workbench/items")).status_code == 401
            amr = await login(base, "staff-amr")
            reg = item_by_code(await platform.cases.view(APPLICANT, draft.id, with_plan=False), "REG-")
            answer = await client.get(
                f"/api/v1/workbench/items/{tax.ref}", headers={"Authorization": f"Bearer {amr['access_token']}"}
            )
            assert answer.status_code == 403 and answer.json()["code"] == "outside_scope"
            assert answer.headers["content-type"].startswith("application/problem+json")
            public = await client.get("/api/v1/public/transparency")
            assert (
                public.status_code == 200
                and public.json()["cases"] == 1
                and draft.id not in public.text
                and reg.ref not in public.text
            )

        errors: list[str] = []
        context = await staff_context(browser, base, "admin-platform")
        page = await context.new_page()
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            await page.goto("/staff/admin.html")
            row = page.locator('tr[data-system="amr"]')
            await expect(row.get_by_test_id("mode")).to_have_text("系统对接")
            await row.get_by_test_id("switch-amr").click()
            await expect(row.get_by_test_id("mode")).to_have_text("人工办理")
            await expect(page.get_by_test_id("jurisdiction")).to_contain_text("35")
            await page.locator("#diff-go").click()
            await expect(page.get_by_test_id("catalog-diff")).to_be_visible()
            assert await axe(page) == []
            await shot(page, "01-admin")

            await page.goto("/staff/stats.html")
            await expect(page.get_by_test_id("figure-cases")).to_have_text("1")
            await expect(page.get_by_test_id("trend-chart")).to_be_visible()
            await expect(page.get_by_test_id("items-table")).to_contain_text("TAX-UNIFIED")
            figures = page.locator("#figures")
            await expect(figures).to_contain_text("福州市")  # entity types and cities by name, not by code
            assert not re.search(r"\b(company|350100)\b", await figures.inner_text())
            assert await axe(page) == []
            await shot(page, "02-stats")
            csv = await context.request.get("/api/v1/stats/export?section=items")
            assert csv.ok and "text/csv" in csv.headers["content-type"] and "TAX-UNIFIED" in await csv.text()

            await page.goto("/staff/ratings.html")
            await expect(page.get_by_test_id("follow-up")).to_have_count(1)
            await expect(page.get_by_test_id("rating-report")).to_contain_text("差评")
            await expect(page.get_by_test_id("rating-reporting")).to_contain_text("已送达")
            assert await axe(page) == []
            await shot(page, "03-ratings")
            await page.locator(f"#note-{bad_id}").fill("已电话回访，说明清税进度")
            await page.get_by_test_id("step-visit").get_by_role("button").click()
            await expect(page.get_by_test_id("follow-up")).to_contain_text("已回访")
            await page.goto("/staff/")
            await expect(page.get_by_test_id("error")).to_be_visible()  # an administrator is not agency staff
            assert errors == []
        finally:
            await context.close()

        context = await staff_context(browser, base, "window-fuzhou")
        page = await context.new_page()
        try:
            await page.goto("/staff/window.html")
            await expect(page.get_by_test_id("assisted-form")).to_be_visible()
            assert await axe(page) == []
            await shot(page, "04-window")
        finally:
            await context.close()

        context = await browser.new_context(base_url=base, locale="zh-CN")  # the public: no login
        page = await context.new_page()
        try:
            await page.goto("/staff/transparency.html")
            await expect(page.get_by_test_id("public-cases")).to_have_text("1")
            await expect(page.get_by_test_id("trend-chart")).to_be_visible()
            assert await axe(page) == []
            await shot(page, "05-transparency")
        finally:
            await context.close()
