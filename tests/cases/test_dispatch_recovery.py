"""Dispatch keeps its promises when a worker dies mid-send or an agency is down for long."""

from __future__ import annotations

import json

from backend.cases import states as st
from backend.cases.dispatch import retry_delay
from backend.cases.service import POLL_JOB, SEND_JOB
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
    taken_over = JobContext(id=0, kind=SEND_JOB, payload={"ref": tax.ref, "generation": generation}, attempts=2, max_attempts=12)
    await platform.dispatcher.send_job(taken_over)
    await platform.dispatcher.send_job(taken_over)  # once more (another takeover): still one poll
    polls = await Job.select(Job.payload).where(Job.kind == POLL_JOB)
    assert [json.loads(p["payload"])["ref"] for p in polls] == [tax.ref]  # a lost 已办结 callback is still found


def test_an_agencys_retry_after_is_a_floor_under_a_growing_backoff():
    job = JobContext(id=1, kind=SEND_JOB, payload={}, attempts=9, max_attempts=12)
    assert retry_delay(TransientError("503", retry_after=1.0), job) >= 128  # not 1s: the outage would outlast every attempt
    first = JobContext(id=1, kind=SEND_JOB, payload={}, attempts=1, max_attempts=12)
    assert retry_delay(TransientError("503", retry_after=30.0), first) == 30.0  # and never sooner than the agency asked
