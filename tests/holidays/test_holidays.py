"""节假日安排: a year without its notice is estimated; importing the notice is audited, and every
promised date it moves goes on the case's timeline and to the applicant."""

from __future__ import annotations

from datetime import date

import msgspec
import pytest

from backend.administration import holidays
from backend.administration.tables import HolidayImport
from backend.cases import states as st
from backend.lib.problems import ProblemError
from backend.notifications.tables import Notification
from backend.workbench import admin
from tests.cases.support import complete_draft
from tests.workbench.support import ADMIN, APPLICANT, STAFF_ETAX, item_by_code, run_jobs

# A hypothetical 2027 notice for the test: 1–3 January off and 4 January too.
NOTICE_2027 = {
    "year": 2027,
    "holidays": ["2027-01-01", "2027-01-02", "2027-01-03", "2027-01-04"],
    "workdays": ["2027-01-09"],
    "source": "国务院办公厅关于2027年部分节假日安排的通知（测试数据）",
    "note": "test",
}


@pytest.fixture(autouse=True)
async def no_earlier_imports(platform):
    """The shared platform fixture does not know this table: start each test without imports."""
    await HolidayImport.delete(force=True)
    await Notification.delete(force=True)


def arrangement(**overrides) -> holidays.ArrangementInput:
    return msgspec.convert({**NOTICE_2027, **overrides}, holidays.ArrangementInput)


async def submitted_tax_item(platform):
    await admin.set_mode(platform, ADMIN, "etax", "manual")  # the tax item stays open at the tax office
    draft = await complete_draft(platform, APPLICANT)
    await platform.cases.submit(APPLICANT, draft.id, "holidays-1")
    await run_jobs(platform)
    return draft.id, item_by_code(await platform.cases.view(APPLICANT, draft.id, with_plan=False), "TAX-")


async def test_an_import_moves_promised_dates_on_the_timeline_and_tells_the_applicant(platform):
    case_id, tax = await submitted_tax_item(platform)
    # 10 working days from 2026-12-24 with 2027 computed (1 January off): 25, 28–31, 4–8 January
    assert tax.due_on == "2027-01-08" and tax.due_estimated

    state = await holidays.calendar_state(platform, ADMIN)
    assert state.missing_next_year == 2027 and "2027" in state.warning["zh-CN"]
    assert {y.year: y.official for y in state.years}[2027] is False

    diff = await holidays.preview(platform, ADMIN, arrangement())
    assert not diff.was_official and diff.moved == 1
    assert "2027-01-04" in diff.holidays_added and "2027-02-05" in diff.holidays_removed
    assert diff.workdays_added == ["2027-01-09"]
    assert (await holidays.calendar_state(platform, ADMIN)).missing_next_year == 2027  # a preview changes nothing

    done = await holidays.import_arrangement(platform, ADMIN, arrangement())
    assert done.moved == 1 and done.imported_by == ADMIN.id and done.diff["holidays_added"]
    view = await platform.cases.view(APPLICANT, case_id, with_plan=False)
    moved = item_by_code(view, "TAX-")
    # 25, 28–31, [1–4 off], 5, 6, 7, 8, 9 (a make-up Saturday)
    assert moved.due_on == "2027-01-09" and not moved.due_estimated
    event = next(e for e in view.timeline if e.type == st.ITEM_DUE_CHANGED)
    assert event.item_ref == tax.ref and event.data["from"] == "2027-01-08" and event.data["to"] == "2027-01-09"
    note = await Notification.select().where(Notification.kind == "due_date_changed").first()
    assert note["person_id"] == APPLICANT.id and msgspec.json.decode(note["data"])["to"] == "2027-01-09"
    audit = await HolidayImport.select()
    assert len(audit) == 1 and audit[0]["year"] == 2027 and "测试数据" in audit[0]["source"]

    state = await holidays.calendar_state(platform, ADMIN)
    assert state.missing_next_year is None and state.warning is None
    assert {y.year: y.official for y in state.years}[2027] is True
    assert not platform.cases.calendar.is_working_day(date(2027, 1, 4))

    # the same arrangement again moves nothing and says so
    again = await holidays.import_arrangement(platform, ADMIN, arrangement(note="again"))
    assert again.moved == 0 and again.diff["holidays_added"] == []


async def test_a_new_process_loads_the_imports(platform):
    await holidays.import_arrangement(platform, ADMIN, arrangement())
    platform.cases.calendar = platform.cases.calendar.from_file()  # a process started from the shipped file
    assert platform.cases.calendar.is_working_day(date(2027, 1, 4))
    await holidays.refresh(platform)
    assert not platform.cases.calendar.is_working_day(date(2027, 1, 4))


async def test_a_running_process_follows_an_import_made_elsewhere(platform):
    """Every API process and worker computes due dates: an import made through one of them is in
    force in the others within their check interval, without a restart."""
    import asyncio
    from types import SimpleNamespace

    # another process: its own calendar, loaded from the shipped file, and the same database
    elsewhere = SimpleNamespace(cases=SimpleNamespace(calendar=platform.cases.calendar.from_file()))
    stop = asyncio.Event()
    follower = asyncio.create_task(holidays.follow_imports(elsewhere, stop, every=0.05))
    try:
        imported = await holidays.import_arrangement(platform, ADMIN, arrangement())  # made in this process
        assert imported.moved == 0
        assert not platform.cases.calendar.is_working_day(date(2027, 1, 4))
        async with asyncio.timeout(10):
            while elsewhere.cases.calendar.is_working_day(date(2027, 1, 4)):
                await asyncio.sleep(0.05)
    finally:
        stop.set()
        await follower


@pytest.mark.parametrize(
    ("overrides", "code", "field"),
    [
        ({"holidays": ["2026-12-31"]}, "invalid_arrangement", "holidays"),
        ({"workdays": ["2027-01-01"]}, "invalid_arrangement", "workdays"),
        ({"source": " "}, "source_required", "source"),
        ({"year": 1999}, "invalid_year", "year"),
    ],
)
async def test_a_bad_arrangement_is_refused_and_nothing_is_recorded(platform, overrides, code, field):
    with pytest.raises(ProblemError) as caught:
        await holidays.import_arrangement(platform, ADMIN, arrangement(**overrides))
    assert caught.value.code == code and caught.value.status == 422
    assert await HolidayImport.count() == 0


async def test_only_administrators_import(platform):
    for call in (holidays.calendar_state, holidays.import_arrangement, holidays.preview):
        with pytest.raises(ProblemError) as caught:
            await (
                call(platform, STAFF_ETAX)
                if call is holidays.calendar_state
                else call(platform, STAFF_ETAX, arrangement())
            )
        assert caught.value.status == 403
