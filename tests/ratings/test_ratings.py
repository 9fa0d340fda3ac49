"""好差评 on the real case flow: a bad rating's whole follow-up in working days (virtual clock,
the 2026 National Day holiday), re-rating, appeal and re-review, and the report."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from backend.identity.actor import Actor
from backend.lib.problems import ProblemError
from backend.ratings.service import Ratings, report
from backend.workbench import admin
from backend.workbench.service import Workbench
from tests.cases.support import TINY_PDF, complete_draft
from tests.workbench.support import ADMIN, APPLICANT, STAFF_AMR, STAFF_ETAX, WINDOW, item_by_code, run_jobs

CST = timezone(timedelta(hours=8))


def at(y, m, d, hh=10):
    return int(datetime(y, m, d, hh, tzinfo=CST).timestamp() * 1000)


def move_to(platform, ms):
    platform.clock.advance((ms - platform.clock.now_ms()) / 1000)


async def completed_tax_item(platform):
    """A case whose tax item the tax office completed on the workbench (manual connector)."""
    await admin.set_mode(platform, ADMIN, "etax", "manual")
    draft = await complete_draft(platform, APPLICANT)
    await platform.cases.submit(APPLICANT, draft.id, "rating-1")
    await run_jobs(platform)
    tax = item_by_code(await platform.cases.view(APPLICANT, draft.id, with_plan=False), "TAX-")
    await Workbench(platform).approve(STAFF_ETAX, tax.ref, "清税证明.pdf", TINY_PDF)
    return draft.id, tax


async def test_a_bad_rating_runs_its_follow_up_in_working_days(platform):
    ratings = Ratings(platform)
    case_id, tax = await completed_tax_item(platform)
    reg = item_by_code(await platform.cases.view(APPLICANT, case_id, with_plan=False), "REG-")
    with pytest.raises(ProblemError) as caught:  # only closed items are rated
        await ratings.rate_matter(APPLICANT, case_id, reg.ref, 5, [])
    assert caught.value.code == "item_not_closed"
    with pytest.raises(ProblemError) as caught:  # never by staff
        await ratings.rate_matter(STAFF_ETAX, case_id, tax.ref, 5, [])
    assert caught.value.status in (403, 404)

    # 2026-09-30 (Wed): 非常不满意. Oct 1–7 are holidays; Oct 10 (Sat) is a make-up working day.
    bad = await ratings.rate_matter(APPLICANT, case_id, tax.ref, 1, ["slow", "attitude_poor"], "等了很久")
    assert bad.level_label["zh-CN"] == "非常不满意" and bad.follow_up_id
    with pytest.raises(ProblemError) as caught:  # 一事一评: once per item
        await ratings.rate_matter(APPLICANT, case_id, tax.ref, 3, [])
    assert caught.value.code == "already_rated"
    follow_up = await ratings.follow_up(STAFF_ETAX, bad.follow_up_id)
    assert follow_up.opened_on == "2026-09-30"
    assert follow_up.visit_due_on == "2026-10-08"  # the next working day after the holiday
    # 10 working days (福建省政务服务“好差评”管理办法（试行）; the national figure is 15):
    # Oct 8, 9, 10 (make-up), 12–16, 19, 20
    assert follow_up.rectify_due_on == "2026-10-20"
    with pytest.raises(ProblemError) as caught:  # another agency cannot touch it
        await ratings.record_visit(STAFF_AMR, bad.follow_up_id, "x")
    assert caught.value.status == 403
    assert [f.id for f in await ratings.follow_ups(STAFF_ETAX)] == [bad.follow_up_id]

    # still on time late on the due day; overdue the next morning
    move_to(platform, at(2026, 10, 8, 23))
    await run_jobs(platform, ("ratings.deadline",))
    assert not (await ratings.follow_up(STAFF_ETAX, bad.follow_up_id)).visit_overdue
    move_to(platform, at(2026, 10, 9, 9))
    await run_jobs(platform, ("ratings.deadline",))
    follow_up = await ratings.follow_up(STAFF_ETAX, bad.follow_up_id)
    assert follow_up.visit_overdue and "visit_overdue" in [e.type for e in follow_up.events]

    # the steps, in order only
    with pytest.raises(ProblemError) as caught:
        await ratings.reply(STAFF_ETAX, bad.follow_up_id, "too early")
    assert caught.value.code == "step_not_allowed"
    await ratings.record_visit(STAFF_ETAX, bad.follow_up_id, "电话回访申请人，了解超时原因")
    move_to(platform, at(2026, 10, 19))
    await ratings.record_rectification(STAFF_ETAX, bad.follow_up_id, "清税岗增设专人，限时办结")
    with pytest.raises(ProblemError) as caught:  # the applicant may rate again only after the reply
        await ratings.rate_again(APPLICANT, bad.follow_up_id, 4, [])
    assert caught.value.code == "not_replied_yet"
    move_to(platform, at(2026, 10, 20, 16))
    await ratings.reply(STAFF_ETAX, bad.follow_up_id, "已整改：清税事项限时办结并主动告知进度")
    move_to(platform, at(2026, 10, 21, 9))
    await run_jobs(platform, ("ratings.deadline",))
    follow_up = await ratings.follow_up(STAFF_ETAX, bad.follow_up_id)
    assert follow_up.status == "replied" and not follow_up.rectify_overdue  # replied on the last day

    again = await ratings.rate_again(APPLICANT, bad.follow_up_id, 4, ["fast"], "整改后满意")
    assert again.supersedes == bad.id
    follow_up = await ratings.follow_up(STAFF_ETAX, bad.follow_up_id)
    assert follow_up.status == "closed" and follow_up.re_rating_id == again.id
    assert [e.type for e in follow_up.events] == [
        "opened",
        "visit_overdue",
        "visited",
        "rectified",
        "replied",
        "re_rated",
    ]
    assert (await ratings.rating(bad.id)).status == "superseded"

    figures = await report()
    assert (
        figures["total"] == 1
        and figures["by_level"]["4"] == 1
        and figures["bad"] == 0
        and figures["satisfaction"] == 1.0
    )
    assert figures["follow_ups"] == {
        "total": 1,
        "open": 0,
        "visited_on_time": 0,
        "visit_overdue": 1,
        "replied_on_time": 1,
        "rectify_overdue": 0,
        "re_rated": 1,
    }


async def test_an_item_left_unrated_for_7_days_counts_as_satisfied(platform):
    """福建省政务服务“好差评”管理办法（试行）: 接受服务后7个自然日内未评价的，默认为“满意”."""
    ratings = Ratings(platform)
    case_id, tax = await completed_tax_item(platform)
    now = platform.clock.now_ms()
    assert (await report(now_ms=now))["defaulted"] == 0  # just closed: the applicant may still rate
    figures = await report(now_ms=now + 7 * 86_400_000 + 3_600_000)
    assert figures["defaulted"] == 1 and figures["by_level"]["4"] == 1 and figures["satisfaction"] == 1.0
    assert figures["rules"]["rectify_working_days"] == 10 and figures["rules"]["default_after_days"] == 7
    assert "福建省政务服务“好差评”管理办法" in figures["rules"]["source"]
    # a late real rating takes the default's place
    await ratings.rate_matter(APPLICANT, case_id, tax.ref, 5, ["fast"])
    figures = await report(now_ms=now + 8 * 86_400_000)
    assert figures["defaulted"] == 0 and figures["total"] == 1 and figures["by_level"]["5"] == 1


async def test_an_unanswered_bad_rating_becomes_overdue_at_each_step(platform):
    ratings = Ratings(platform)
    case_id, tax = await completed_tax_item(platform)
    bad = await ratings.rate_matter(APPLICANT, case_id, tax.ref, 2, ["slow"])
    move_to(platform, at(2026, 10, 28, 9))  # after both deadlines
    await run_jobs(platform, ("ratings.deadline",))
    follow_up = await ratings.follow_up(ADMIN, bad.follow_up_id)
    assert follow_up.visit_overdue and follow_up.rectify_overdue and follow_up.status == "open"
    assert (await report())["follow_ups"]["rectify_overdue"] == 1


async def test_visit_ratings_appeal_and_re_review(platform):
    ratings = Ratings(platform)
    visitor = Actor(id="P010", name="访客", roles=frozenset({"applicant"}))

    async def token(ref: str, rater: str) -> str:  # what a window service record issues
        issued = await ratings.issue_visit_token(
            visit_ref=ref, hall="hall-3501", region="350102", channel="window", rater_id=rater
        )
        return issued.visit_token

    first = await token("Q-0001", "P010")
    good = await ratings.rate_visit(visitor, first, 5, ["attitude_good"])
    assert good.follow_up_id is None and good.kind == "visit" and good.hall == "hall-3501"
    with pytest.raises(ProblemError) as caught:  # 一次一评: once per visit
        await ratings.rate_visit(visitor, first, 4, [])
    assert caught.value.code == "already_rated"
    bad = await ratings.rate_visit(Actor(id="P011"), await token("Q-0002", "P011"), 1, ["other"], "无关内容")
    assert bad.follow_up_id
    with pytest.raises(ProblemError) as caught:
        await ratings.rate_visit(visitor, await token("Q-0003", "P010"), 3, ["no_such_indicator"])
    assert caught.value.code == "unknown_indicator"

    with pytest.raises(ProblemError) as caught:  # an agency outside the hall cannot appeal
        await ratings.appeal(STAFF_ETAX, bad.id, "malicious", "x")
    assert caught.value.status == 403
    appeal = await ratings.appeal(WINDOW, bad.id, "malicious", "评价内容与服务无关，系恶意差评")
    assert (await ratings.rating(bad.id)).status == "under_appeal"
    with pytest.raises(ProblemError) as caught:
        await ratings.review(WINDOW, appeal.id, True, "x")
    assert caught.value.status == 403
    assert [a.id for a in await ratings.appeals(ADMIN)] == [appeal.id]
    decided = await ratings.review(ADMIN, appeal.id, True, "经复核，属恶意评价，不计入统计")
    assert decided.status == "upheld"
    assert (await ratings.rating(bad.id)).status == "invalidated"
    assert (await ratings.follow_up(ADMIN, bad.follow_up_id)).status == "void"
    figures = await report()
    assert figures["total"] == 1 and figures["bad"] == 0 and figures["by_hall"]["hall-3501"]["total"] == 1
    assert figures["follow_ups"]["total"] == 0
