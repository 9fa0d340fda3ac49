"""Working days skip weekends and holidays and count make-up working days."""

from datetime import date

import pytest

from backend.lib.workdays import WorkCalendar, default_calendar


def test_plain_weeks_skip_weekends():
    cal = WorkCalendar()
    assert cal.add(date(2026, 11, 27), 1) == date(2026, 11, 30)  # Friday + 1 → Monday
    assert cal.add(date(2026, 11, 23), 10) == date(2026, 12, 7)
    assert cal.between(date(2026, 11, 27), date(2026, 11, 30)) == 1


def test_holidays_and_make_up_days_from_the_calendar():
    cal = default_calendar()
    assert not cal.is_working_day(date(2026, 10, 1))
    assert cal.is_working_day(date(2026, 10, 10))  # a Saturday made a working day
    # 10 working days from 2026-09-28 (Mon): 29, 30, [Oct 1-7 off], 8, 9, 10(Sat, make-up), 12, 13, 14, 15, 16
    assert cal.add(date(2026, 9, 28), 10) == date(2026, 10, 16)


def test_a_date_cannot_be_both():
    with pytest.raises(ValueError):
        WorkCalendar({date(2026, 1, 1)}, {date(2026, 1, 1)})
