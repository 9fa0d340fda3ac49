"""The simplified route's publicity period: a timed stage in virtual time, ended by the
clock or stopped by an objection."""

from __future__ import annotations

import pytest

from backend.cases import states as st
from backend.cases.common import NOTICE
from backend.identity.actor import Actor
from backend.jobs import JobContext, RetryLater
from backend.jobs.tables import Job
from tests.cases.support import BASE_ANSWERS, TINY_PDF, form_from_examples, materials_to_upload, sign_and_verify_face

SIMPLIFIED_USCC = "91350104MA02041309"
STAFF = Actor(
    id="staff-amr", kind="staff", roles=frozenset({"agency_staff"}), agencies=frozenset({"amr"}), regions=("35",)
)


async def submitted_simplified(platform):
    actor = Actor(id="P004")
    view = await platform.cases.create_draft(actor, SIMPLIFIED_USCC)
    view = await platform.cases.update_draft(
        actor, view.id, answers={**BASE_ANSWERS, "route": "simplified"}, form_data=None, version=None
    )
    assert view.plan is not None and view.plan["can_submit"], view.plan_problems or view.plan["blockers"]
    await platform.cases.update_draft(
        actor, view.id, answers=None, form_data=form_from_examples(view.plan, view.form_data), version=None
    )
    for code in materials_to_upload(view.plan):
        await platform.cases.add_material(actor, view.id, code, "m.pdf", TINY_PDF)
    await sign_and_verify_face(platform, actor, view.id)
    return actor, await platform.cases.submit(actor, view.id, f"notice-{view.id}")


async def run_send_job(platform, ref):
    job = await Job.select().where((Job.kind == "cases.send") & (Job.payload.like(f"%{ref}%"))).first()
    await platform.dispatcher.send_job(
        JobContext(id=job["id"], kind=job["kind"], payload={"ref": ref, "generation": 1}, attempts=1, max_attempts=15)
    )


async def test_publicity_period_runs_twenty_days_then_lets_registration_go(platform):
    actor, view = await submitted_simplified(platform)
    items = {i.code: i for i in view.items}
    notice, reg = items[NOTICE], next(i for c, i in items.items() if c.startswith("REG-"))
    assert notice.name.zh.startswith("简易注销公示期")
    # D Art. 47 / R Art. 33 ¶2: on the simplified route registration waits for the publicity, not for tax
    assert reg.depends_on == [notice.ref]
    # the confirmation words the promise as the plan and the guide do: the stage, then working days
    assert 0 < view.promised_days < 20
    assert view.promised_text is not None
    assert view.promised_text.zh == f"提交申请后先经简易注销公示期20日，期满无异议后{view.promised_days}个工作日内办结"
    await run_send_job(platform, notice.ref)
    view = await platform.cases.view(actor, view.id)
    opened = next(i for i in view.items if i.code == NOTICE)
    assert opened.status == st.IN_PROGRESS and opened.due_on
    with pytest.raises(RetryLater):  # too early: the job is told to come back at the end
        await platform.cases.end_notice(notice.ref)
    platform.clock.advance(20 * 86400)
    assert await platform.cases.end_notice(notice.ref) is True
    view = await platform.cases.view(actor, view.id)
    assert next(i for i in view.items if i.code == NOTICE).status == st.COMPLETED
    # the registrar application follows the period's end (within its 20 days, R Art. 33 ¶2)
    assert next(i for i in view.items if i.code.startswith("REG-")).status == st.QUEUED


async def test_an_objection_ends_the_simplified_route(platform):
    actor, view = await submitted_simplified(platform)
    notice = next(i for i in view.items if i.code == NOTICE)
    await run_send_job(platform, notice.ref)
    objected = await platform.cases.object(STAFF, view.id, "债权人提出异议：尚有未清偿债务")
    items = {i.code: i for i in objected.items}
    assert items[NOTICE].status == st.REJECTED
    assert next(i for c, i in items.items() if c.startswith("REG-")).status == st.CANCELLED
    assert objected.timeline[-1].type in (st.NOTICE_OBJECTION, st.ITEM_CANCELLED)
