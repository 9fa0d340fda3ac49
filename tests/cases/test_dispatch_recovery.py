"""Dispatch keeps its promises when a worker dies mid-send or an agency is down for long."""

from __future__ import annotations

import json

from backend.cases import states as st
from backend.cases.common import POLL_JOB, SEND_JOB
from backend.cases.dispatch import retry_delay
from backend.cases.tables import CaseItem
from backend.connectors.base import TransientError
from backend.jobs import JobContext
from backend.jobs.tables import Job
from tests.cases.support import complete_draft


async def test_an_item_a_callback_moved_on_before_the_ack_was_recorded_is_still_polled(platform, applicant):
    view = await complete_draft(platform, applicant)
    submitted = await platform.cases.submit(applicant, view.id, "recovery-1")
    tax = next(i for i in submitted.items if i.code == "TAX-UNIFIED")
    # the agency took the item and called back 已受理; the worker that sent it died before recording the answer
    await CaseItem.update({CaseItem.status: st.ACCEPTED, CaseItem.reference: "ETAX-1"}).where(CaseItem.ref == tax.ref)
    generation = (await CaseItem.select(CaseItem.generation).where(CaseItem.ref == tax.ref).first())["generation"]
    assert await Job.count().where(Job.kind == POLL_JOB) == 0
    taken_over = JobContext(
        id=0, kind=SEND_JOB, payload={"ref": tax.ref, "generation": generation}, attempts=2, max_attempts=12
    )
    await platform.dispatcher.send_job(taken_over)
    await platform.dispatcher.send_job(taken_over)  # once more (another takeover): still one poll
    polls = await Job.select(Job.payload).where(Job.kind == POLL_JOB)
    assert [json.loads(p["payload"])["ref"] for p in polls] == [tax.ref]  # a lost 已办结 callback is still found


def test_an_agencys_retry_after_is_a_floor_under_a_growing_backoff():
    job = JobContext(id=1, kind=SEND_JOB, payload={}, attempts=9, max_attempts=12)
    assert (
        retry_delay(TransientError("503", retry_after=1.0), job) >= 128
    )  # not 1s: the outage would outlast every attempt
    first = JobContext(id=1, kind=SEND_JOB, payload={}, attempts=1, max_attempts=12)
    assert retry_delay(TransientError("503", retry_after=30.0), first) == 30.0  # and never sooner than the agency asked


async def test_whoever_waited_for_the_case_lock_sees_the_event_its_holder_appended(platform, applicant):
    import asyncio

    from backend.cases import timeline

    view = await complete_draft(platform, applicant)
    submitted = await platform.cases.submit(applicant, view.id, "lock-order-1")
    ref = submitted.items[0].ref
    dispatcher = platform.dispatcher
    holding, release = asyncio.Event(), asyncio.Event()

    async def holder() -> dict:
        async with platform.cases.transaction():
            case, _, _ = await dispatcher._locked_item(ref)
            holding.set()
            await release.wait()
            return await timeline.append(case["id"], st.CASE_UPDATED, at=1, after=case["last_event"])

    async def waiter() -> dict:
        await holding.wait()
        async with platform.cases.transaction():
            case, _, _ = await dispatcher._locked_item(ref)  # waits until the holder commits
            return await timeline.append(case["id"], st.CASE_UPDATED, at=2, after=case["last_event"])

    first = asyncio.create_task(holder())
    second = asyncio.create_task(waiter())
    await holding.wait()
    await asyncio.sleep(0.3)  # the waiter is now blocked on the lock
    release.set()
    appended = await asyncio.gather(first, second)
    assert appended[1]["seq"] == appended[0]["seq"] + 1  # one after the other, no duplicate seq
    case, _, _ = await dispatcher._locked_item(ref)
    assert await timeline.verify(case["id"]) == (True, None)
