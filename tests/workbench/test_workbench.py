"""The manual connector and the agency workbench on the real case flow (PostgreSQL and SQLite)."""

from __future__ import annotations

from datetime import date, timedelta

import pytest

from backend.cases import states as st
from backend.cases.tables import CaseItem
from backend.connectors.base import Correction
from backend.identity.audit import access_records
from backend.lib.problems import ProblemError
from backend.workbench import admin
from backend.workbench.connector import connector_mode
from backend.workbench.service import Workbench
from tests.cases.support import HAPPY_USCC, TINY_PDF, complete_draft
from tests.workbench.support import ADMIN, APPLICANT, STAFF_AMR, STAFF_AMR_XM, STAFF_ETAX, item_by_code, run_jobs

PNG = b"\x89PNG\r\n\x1a\n" + b"\x00\x00\x00\rIHDR" + (1).to_bytes(4, "big") * 2 + b"\x08\x02\x00\x00\x00" + b"\x00" * 20
RESULT_PDF = TINY_PDF.replace(b"%%EOF", b"% approval notice\n%%EOF")


async def submitted_with_manual(platform, *systems: str, key: str = "wb-1"):
    for system in systems:
        await admin.set_mode(platform, ADMIN, system, "manual")
    draft = await complete_draft(platform, APPLICANT)
    await platform.cases.submit(APPLICANT, draft.id, key)
    await run_jobs(platform)
    return draft.id


async def test_switching_mode_is_data_and_admin_only(platform):
    assert await connector_mode("amr") == "api"
    with pytest.raises(ProblemError) as caught:
        await admin.set_mode(platform, STAFF_AMR, "amr", "manual")
    assert caught.value.status == 403
    view = await admin.set_mode(platform, ADMIN, "amr", "manual", "省局系统尚未对接")
    assert view.mode == "manual" and await connector_mode("amr") == "manual"
    modes = {m.system: m.mode for m in await admin.list_modes(ADMIN)}
    assert modes["amr"] == "manual" and modes["etax"] == "api"
    await admin.set_mode(platform, ADMIN, "amr", "api")
    assert await connector_mode("amr") == "api"


async def test_staff_work_a_case_end_to_end_through_the_same_flow(platform):
    wb = Workbench(platform)
    case_id = await submitted_with_manual(platform, "etax", "amr")
    view = await platform.cases.view(APPLICANT, case_id, with_plan=False)
    tax = item_by_code(view, "TAX-")
    assert tax.status == st.SENT and tax.reference.startswith("MANUAL-")
    # the tax officer sees the item with its SLA clock and approves it with a PDF
    listed = await wb.list_items(STAFF_ETAX)
    assert [w.ref for w in listed] == [tax.ref]
    assert (
        listed[0].sla.due_on == tax.due_on
        and listed[0].sla.days_left == tax.promised_days
        and not listed[0].sla.overdue
    )
    assert await wb.list_items(STAFF_AMR) == []  # registration waits for tax clearance
    outcome, _ = await wb.approve(STAFF_ETAX, tax.ref, "清税证明.pdf", TINY_PDF)
    assert outcome == "applied"
    await run_jobs(platform)
    view = await platform.cases.view(APPLICANT, case_id, with_plan=False)
    reg = item_by_code(view, "REG-")
    assert item_by_code(view, "TAX-").status == st.COMPLETED and reg.status == st.SENT

    # registration staff: the merged form projected to the item, materials, earlier results
    detail = await wb.detail(STAFF_AMR, reg.ref)
    fields = {f.key: f for f in detail.form}
    assert fields["uscc"].payload_field == "uniscid" and fields["uscc"].value == HAPPY_USCC
    assert fields["entity_name"].payload_field == "entname"
    assert detail.materials and all(
        m.href.startswith(f"/api/v1/workbench/items/{reg.ref}/materials/") for m in detail.materials
    )
    assert [r.code for r in detail.earlier_results] == [tax.code] and detail.earlier_results[0].documents[0][
        "name"
    ] == "清税证明.pdf"
    assert set(detail.allowed) == {"accept", "request_correction", "approve", "refuse"}
    name, media_type, content = await wb.document(STAFF_AMR, reg.ref, detail.earlier_results[0].documents[0]["id"])
    assert content == TINY_PDF and media_type == "application/pdf"

    # outside the staff member's region or agency: 403
    for outsider in (STAFF_AMR_XM, STAFF_ETAX):
        with pytest.raises(ProblemError) as caught:
            await wb.detail(outsider, reg.ref)
        assert caught.value.status == 403

    # accept, then ask for a correction of one field and one material
    await wb.accept(STAFF_AMR, reg.ref)
    material = detail.materials[0].code
    await wb.request_correction(
        STAFF_AMR,
        reg.ref,
        [
            Correction(kind="field", name="contact_phone", message="请填写可接通的电话"),
            Correction(kind="material", name=material, message="请上传清晰扫描件"),
        ],
        "请补正联系电话和材料",
    )
    view = await platform.cases.view(APPLICANT, case_id, with_plan=False)
    reg_view = item_by_code(view, "REG-")
    assert view.status == st.ACTION_REQUIRED and {c["name"] for c in reg_view.corrections} == {
        "contact_phone",
        material,
    }
    # the applicant corrects; the item is sent again (resubmit) and reopens on the workbench
    await platform.cases.add_material(APPLICANT, case_id, material, "fix.pdf", TINY_PDF)
    await platform.cases.correct(APPLICANT, case_id, reg.code, {"contact_phone": "13800000000"}, "已补正")
    await run_jobs(platform)
    reg_row = await CaseItem.select().where(CaseItem.ref == reg.ref).first()
    assert reg_row["status"] == st.SENT and reg_row["generation"] == 2 and reg_row["reference"] == reg.reference
    assert (await wb.detail(STAFF_AMR, reg.ref)).form and any(w.ref == reg.ref for w in await wb.list_items(STAFF_AMR))

    # approve with the result document: the result reaches the applicant and dependants are queued
    with pytest.raises(ProblemError) as caught:
        await wb.approve(STAFF_AMR, reg.ref, "result.pdf", b"not a pdf at all")
    assert caught.value.status == 415  # sniffed: not a document at all
    with pytest.raises(ProblemError) as caught:
        await wb.approve(STAFF_AMR, reg.ref, "result.pdf", PNG)
    assert (caught.value.status, caught.value.code) == (422, "result_not_pdf")
    await wb.approve(STAFF_AMR, reg.ref, "准予注销登记通知书.pdf", RESULT_PDF, "准予注销")
    view = await platform.cases.view(APPLICANT, case_id, with_plan=False)
    reg_view = item_by_code(view, "REG-")
    assert reg_view.status == st.COMPLETED and reg_view.documents[0]["name"] == "准予注销登记通知书.pdf"
    assert {i.status for i in view.items if i.code.startswith(("CUSTOMS", "SI-", "SEAL"))} <= {st.QUEUED}
    assert view.timeline_intact
    with pytest.raises(ProblemError) as caught:
        await wb.refuse(STAFF_AMR, reg.ref, "too late")
    assert caught.value.status == 409

    # every staff read and action is in the access audit
    actions = {(r.subject, r.action) for r in await access_records(platform, case_id=case_id)}
    assert {
        ("staff-amr", "workbench.read"),
        ("staff-amr", "workbench.accept"),
        ("staff-amr", "workbench.approve"),
        ("staff-etax", "workbench.approve"),
    } <= actions
    detail = await wb.detail(STAFF_AMR, reg.ref)
    assert [a.action for a in detail.actions] == ["accept", "request_correction", "approve"]


async def test_refusal_stops_dependants(platform):
    wb = Workbench(platform)
    case_id = await submitted_with_manual(platform, "etax")
    tax = item_by_code(await platform.cases.view(APPLICANT, case_id, with_plan=False), "TAX-")
    await wb.refuse(STAFF_ETAX, tax.ref, "存在未结清税款")
    view = await platform.cases.view(APPLICANT, case_id, with_plan=False)
    assert (
        item_by_code(view, "TAX-").status == st.REJECTED
        and item_by_code(view, "TAX-").reasons[0]["message"] == "存在未结清税款"
    )
    assert item_by_code(view, "REG-").status == st.CANCELLED and view.status == st.CASE_REFUSED


async def test_sla_clock_counts_working_days_and_flags_overdue(platform):
    wb = Workbench(platform)
    await submitted_with_manual(platform, "etax")
    [item] = await wb.list_items(STAFF_ETAX)
    assert item.sla.due_on and item.sla.days_left == item.sla.promised_days and not item.sla.overdue
    due = date.fromisoformat(item.sla.due_on)
    today = date(2026, 11, 26)
    platform.clock.advance((due - today).days * 86400)  # the due day itself: 0 left, not overdue
    [item] = await wb.list_items(STAFF_ETAX)
    assert (item.sla.days_left, item.sla.overdue) == (0, False)
    platform.clock.advance(4 * 86400)  # four calendar days later: overdue by the working days in between
    [item] = await wb.list_items(STAFF_ETAX)
    expected = sum(platform.cases.calendar.is_working_day(due + timedelta(days=n)) for n in range(1, 5))
    assert item.sla.overdue and item.sla.days_left == -expected


async def test_integrated_systems_are_not_worked_by_hand(platform):
    wb = Workbench(platform)
    draft = await complete_draft(platform, APPLICANT)
    await platform.cases.submit(APPLICANT, draft.id, "wb-api")
    tax = item_by_code(await platform.cases.view(APPLICANT, draft.id, with_plan=False), "TAX-")
    await CaseItem.update({CaseItem.status: st.SENT, CaseItem.reference: "ETAX-1"}).where(CaseItem.ref == tax.ref)
    with pytest.raises(ProblemError) as caught:
        await wb.accept(STAFF_ETAX, tax.ref)
    assert (caught.value.status, caught.value.code) == (409, "not_manual")
    assert (await wb.detail(STAFF_ETAX, tax.ref)).allowed == []
