"""A case whose registration system (amr) is on the manual connector completes end to end:
the applicant submits once, tax clearance goes through the e-Tax simulator, and a market
regulation staff member (sandbox persona ``staff-amr``, real identity login) works the
registration item on the workbench in Chromium: sees it with its SLA clock, opens it
(projected form, materials, the tax result), accepts it and approves it with a PDF. The
customs, social insurance, bank and seal items then run through their simulators until
the case is complete. Every staff page gets an axe-core scan and a screenshot."""

from __future__ import annotations

from playwright.async_api import expect

from backend.cases import states as st
from backend.workbench import admin
from e2e.pages.staff import staff_context
from tests.cases.live import wait_until
from tests.cases.support import TINY_PDF
from tests.cases.test_case_service import complete_draft
from tests.workbench.live import base_url, serve_backoffice
from tests.workbench.support import ADMIN, APPLICANT, item_by_code


async def test_staff_complete_the_registration_item_by_hand(tmp_path, monkeypatch, browser, axe, shot):
    async with serve_backoffice(tmp_path, monkeypatch) as app:
        platform = app.state.platform
        base = base_url(app)
        await admin.set_mode(platform, ADMIN, "amr", "manual", "试运行：省市场监管平台尚未对接")
        draft = await complete_draft(platform, APPLICANT)
        await platform.cases.submit(APPLICANT, draft.id, "e2e-manual-amr")

        async def registration_waits_for_staff():
            view = await platform.cases.view(APPLICANT, draft.id, with_plan=False)
            reg = item_by_code(view, "REG-")
            return reg if reg.status == st.SENT else None

        reg = await wait_until(registration_waits_for_staff, 60)
        assert reg.reference.startswith("MANUAL-")

        context = await staff_context(browser, base, "staff-amr")
        page = await context.new_page()
        errors: list[str] = []
        page.on("pageerror", lambda exc: errors.append(str(exc)))
        try:
            await page.goto("/staff/")
            row = page.locator(f'[data-testid="work-item"][data-ref="{reg.ref}"]')
            await expect(row).to_be_visible()
            await expect(row.get_by_test_id("sla")).to_contain_text("剩余")
            assert await axe(page) == []
            await shot(page, "01-workbench")

            await row.get_by_test_id("open-item").click()
            await expect(page.get_by_test_id("status")).to_have_text("已推送")
            await expect(page.get_by_test_id("projected-form")).to_contain_text("uniscid")
            await expect(page.get_by_test_id("earlier-results")).to_contain_text("已办结")
            assert await axe(page) == []
            await shot(page, "02-item")

            await page.get_by_test_id("accept").click()
            await expect(page.get_by_test_id("status")).to_have_text("已受理")

            # 退回补正: one field and one material, with a message to the applicant
            await page.get_by_test_id("pick-field-contact_phone").check()
            await page.locator('[data-testid^="pick-material-"]').first.check()
            await page.get_by_test_id("correction-message").fill("请核对联系电话并重新上传清晰的申请材料")
            await page.get_by_test_id("request-correction").click()
            await expect(page.get_by_test_id("status")).to_have_text("退回补正")
            view = await platform.cases.view(APPLICANT, draft.id, with_plan=False)
            asked = item_by_code(view, "REG-").corrections
            assert view.status == st.ACTION_REQUIRED and {c["kind"] for c in asked} == {"field", "material"}
            for c in asked:
                if c["kind"] == "material":
                    await platform.cases.add_material(APPLICANT, draft.id, c["name"], "fix.pdf", TINY_PDF)
            await platform.cases.correct(APPLICANT, draft.id, reg.code, {"contact_phone": "13800000000"}, "已补正")
            await wait_until(registration_waits_for_staff, 30)  # sent again, back on the workbench
            await page.reload()
            await expect(page.get_by_test_id("status")).to_have_text("已推送")
            await expect(page.get_by_test_id("projected-form")).to_contain_text("13800000000")
            await page.get_by_test_id("result-file").set_input_files(
                {"name": "准予注销登记通知书.pdf", "mimeType": "application/pdf", "buffer": TINY_PDF}
            )
            await page.get_by_test_id("approve").click()
            await expect(page.get_by_test_id("status")).to_have_text("已办结")
            await expect(page.get_by_test_id("ok")).to_be_visible()
            assert await axe(page) == []
            await shot(page, "03-approved")
            assert errors == []
        finally:
            await context.close()

        async def closed():
            view = await platform.cases.view(APPLICANT, draft.id, with_plan=False)
            return view if view.status in (st.CASE_COMPLETED, st.CASE_REFUSED) else None

        view = await wait_until(closed, 90)
        assert view.status == st.CASE_COMPLETED, [(i.code, i.status, i.message) for i in view.items]
        reg = item_by_code(view, "REG-")
        assert reg.documents and reg.documents[0]["name"] == "准予注销登记通知书.pdf"
        customs = item_by_code(view, "CUSTOMS")
        assert reg.closed_at <= customs.sent_at  # the manual result released its dependants
        assert view.timeline_intact
