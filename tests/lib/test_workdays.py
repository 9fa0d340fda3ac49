"""Working days skip weekends and holidays and count make-up working days."""

from datetime import date

import pytest

from backend.lib.workdays import Arrangement, WorkCalendar, decode_arrangements, default_calendar, statutory_holidays


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


# --------------------------------------------------------------------------- years without a notice

LAW = "全国年节及纪念日放假办法（2024年修订）第二条、第六条"

# (year, day, off?, why) — each row names the rule it proves.
STATUTORY = [
    (2027, date(2027, 1, 1), True, f"{LAW}: 元旦 1月1日"),
    (2027, date(2027, 2, 5), True, f"{LAW}: 春节 农历除夕 (2027-02-05)"),
    (2027, date(2027, 2, 8), True, f"{LAW}: 春节 正月初三"),
    (2027, date(2027, 2, 9), True, f"{LAW}: 第六条 初一 falls on a Saturday → 补假"),
    (2027, date(2027, 2, 10), True, f"{LAW}: 第六条 初二 falls on a Sunday → 补假"),
    (2027, date(2027, 2, 11), False, f"{LAW}: only 4 days plus weekend substitutes"),
    (2027, date(2027, 4, 5), True, f"{LAW}: 清明节 (solar term, 2027-04-05)"),
    (2027, date(2027, 5, 3), True, f"{LAW}: 劳动节 5月1日、2日 on a weekend → 补假"),
    (2027, date(2027, 6, 9), True, f"{LAW}: 端午节 农历五月初五"),
    (2027, date(2027, 9, 15), True, f"{LAW}: 中秋节 农历八月十五"),
    (2027, date(2027, 10, 4), True, f"{LAW}: 国庆节 10月2日、3日 on a weekend → 补假"),
    (2027, date(2027, 10, 6), False, f"{LAW}: 国庆节 is 3 days (10月1日至3日)"),
    (2028, date(2028, 1, 25), True, f"{LAW}: 除夕 in January (2028-01-25)"),
    (2025, date(2025, 1, 28), True, f"{LAW}: 除夕 2025 (checks the lunar library against the 2025 notice)"),
    (2025, date(2025, 5, 31), True, f"{LAW}: 端午 2025 (checks against the 2025 notice)"),
    (2025, date(2025, 10, 6), True, f"{LAW}: 中秋 2025 (checks against the 2025 notice)"),
]


@pytest.mark.parametrize(("year", "day", "off", "why"), STATUTORY, ids=[r[3] for r in STATUTORY])
def test_statutory_holidays_are_computed_for_a_year_without_a_notice(year, day, off, why):
    assert (day in statutory_holidays(year)) is off, why
    cal = WorkCalendar.from_arrangements({})
    assert cal.is_working_day(day) is (not off and day.weekday() < 5), why


def test_2026_is_the_official_notice_and_2027_is_computed():
    cal = default_calendar()
    assert cal.is_official(2026) and not cal.is_official(2027)
    assert "2026年部分节假日安排" in cal.arrangements[2026].source
    # The bug: 2027-01-01 counted as a working day. 10 working days from 2026-12-24 (Thu):
    # 25, 28, 29, 30, 31, [Jan 1 off], 4, 5, 6, 7, 8
    assert not cal.is_working_day(date(2027, 1, 1))
    assert cal.add(date(2026, 12, 24), 10) == date(2027, 1, 8)
    assert cal.relies_on_estimate(date(2027, 1, 8), date(2026, 12, 24))
    assert not cal.relies_on_estimate(date(2026, 12, 31), date(2026, 12, 1))


@pytest.mark.parametrize(
    ("today", "warned"),
    [(date(2026, 10, 31), None), (date(2026, 11, 1), 2027), (date(2026, 12, 31), 2027), (date(2026, 1, 5), None)],
)
def test_administrators_are_warned_from_1_november_while_next_year_is_missing(today, warned):
    assert default_calendar().missing_next_year(today) == warned


def test_no_warning_once_next_year_is_imported():
    cal = WorkCalendar.from_arrangements({2026: Arrangement(), 2027: Arrangement(holidays=[date(2027, 1, 1)])})
    assert cal.missing_next_year(date(2026, 11, 20)) is None
    # an official year uses only its notice: 2027-10-04 is a plain Monday unless the notice says so
    assert cal.is_working_day(date(2027, 10, 4))


@pytest.mark.parametrize(
    ("text", "error"),
    [
        ("2027:\n  holidays: [2026-12-31]\n", "another year"),
        ("2027:\n  holidays: [2027-02-06]\n  workdays: [2027-02-06]\n", "both"),
        ("2027:\n  holiday: [2027-02-06]\n", "unknown field"),
    ],
)
def test_a_bad_arrangement_is_refused(text, error):
    with pytest.raises(ValueError, match=error):
        decode_arrangements(text.encode())
