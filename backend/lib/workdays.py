"""Working-day arithmetic (工作日) with a configurable holiday calendar.

Promised time limits (承诺时限) count working days: Monday to Friday, minus official
holidays, plus make-up working days (调休). The calendar is data
(``backend/lib/data/holidays.yaml`` by default, or any file in the same shape): one entry per
year holding the State Council General Office's arrangement (国务院办公厅关于…部分节假日安排的通知).

For a year without an official arrangement the statutory holidays of the 全国年节及纪念日放假办法
(2024 amendment, 国务院令第795号, Art. 2) are computed from the Chinese lunar calendar, with a
substitute day off (补假) on the next working day for a holiday falling on a weekend (Art. 6).
The official notice usually also moves weekends around (调休), which cannot be predicted, so a
date that relies on a computed year is an *estimate* (:meth:`WorkCalendar.relies_on_estimate`).
"""

from __future__ import annotations

import functools
from datetime import date, timedelta
from pathlib import Path

import msgspec

DEFAULT_CALENDAR = Path(__file__).parent / "data" / "holidays.yaml"
#: Where the computed holidays come from (shown beside estimated dates).
STATUTORY_SOURCE = "全国年节及纪念日放假办法（2024年修订，国务院令第795号）第二条、第六条"
#: From this day of the year (month, day) administrators are warned while next year is missing:
#: the General Office usually publishes the next year's arrangement in November.
WARN_FROM = (11, 1)


class Arrangement(msgspec.Struct, forbid_unknown_fields=True):
    """One year's official arrangement: days off and make-up working days, with its source."""

    holidays: list[date] = []
    workdays: list[date] = []
    source: str = ""
    """The notice, e.g. 国务院办公厅关于2026年部分节假日安排的通知（国办发明电〔2025〕7号）."""
    published_on: date | None = None


def decode_arrangements(data: bytes) -> dict[int, Arrangement]:
    """Decode a calendar file (YAML: year -> arrangement); raises ValueError on a bad file."""
    try:
        years = msgspec.yaml.decode(data, type=dict[int, Arrangement])
    except (msgspec.ValidationError, msgspec.DecodeError) as exc:
        raise ValueError(str(exc)) from exc
    for year, arr in years.items():
        stray = [d for d in (*arr.holidays, *arr.workdays) if d.year != year]
        if stray:
            raise ValueError(f"{year}: dates of another year: {sorted(stray)}")
        overlap = set(arr.holidays) & set(arr.workdays)
        if overlap:
            raise ValueError(f"{year}: dates both holiday and make-up working day: {sorted(overlap)}")
    return years


@functools.cache
def statutory_holidays(year: int) -> frozenset[date]:
    """The year's days off under the 放假办法 (2024): the 11 holidays plus weekend substitutes."""
    from lunar_python import Lunar  # imported on first use: only years without a notice need it

    new_year_eve = Lunar.fromYmd(year, 1, 1).next(-1).getSolar()  # 除夕: the lunar year's last day
    eve = date(new_year_eve.getYear(), new_year_eve.getMonth(), new_year_eve.getDay())

    def lunar(month: int, day: int) -> date:
        s = Lunar.fromYmd(year, month, day).getSolar()
        return date(s.getYear(), s.getMonth(), s.getDay())

    qm = Lunar.fromYmd(year, 3, 1).getJieQiTable()["清明"]  # a solar term, always in early April
    blocks = [
        [date(year, 1, 1)],  # 元旦
        [eve + timedelta(days=i) for i in range(4)],  # 春节: 除夕, 正月初一至初三
        [date(qm.getYear(), qm.getMonth(), qm.getDay())],  # 清明节
        [date(year, 5, 1), date(year, 5, 2)],  # 劳动节
        [lunar(5, 5)],  # 端午节
        [lunar(8, 15)],  # 中秋节
        [date(year, 10, 1), date(year, 10, 2), date(year, 10, 3)],  # 国庆节
    ]
    off = {d for b in blocks for d in b}
    # Art. 6: a holiday on a Saturday or Sunday is made up on a working day; we take the first
    # weekday after its block that is not itself a day off (the notice may choose otherwise).
    for block in blocks:
        for d in block:
            if d.weekday() >= 5:
                sub = max(block) + timedelta(days=1)
                while sub.weekday() >= 5 or sub in off:
                    sub += timedelta(days=1)
                off.add(sub)
    # 除夕 of the next lunar year can fall in late January of this year (e.g. 2028-01-25).
    return frozenset(d for d in off if d.year == year)


class WorkCalendar:
    """Answers "is this a working day" and adds working days to dates."""

    def __init__(
        self,
        holidays: set[date] | frozenset[date] = frozenset(),
        workdays: set[date] | frozenset[date] = frozenset(),
        official_years: set[int] | frozenset[int] | None = None,
    ) -> None:
        """A calendar of explicit days; ``official_years`` switches on computed holidays for other years.

        With ``official_years`` None (the default) only the given dates count, as before;
        with a set, every year outside it gets the statutory holidays computed.
        """
        overlap = set(holidays) & set(workdays)
        if overlap:
            raise ValueError(f"dates both holiday and make-up working day: {sorted(overlap)}")
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)
        self.official_years = None if official_years is None else frozenset(official_years)
        self.arrangements: dict[int, Arrangement] = {}

    @classmethod
    def from_arrangements(cls, years: dict[int, Arrangement]) -> WorkCalendar:
        """A calendar from official arrangements; other years are computed."""
        cal = cls(
            {d for y in years.values() for d in y.holidays},
            {d for y in years.values() for d in y.workdays},
            official_years=set(years),
        )
        cal.arrangements = dict(years)
        return cal

    @classmethod
    def from_file(cls, path: Path | str = DEFAULT_CALENDAR) -> WorkCalendar:
        return cls.from_arrangements(decode_arrangements(Path(path).read_bytes()))

    def is_official(self, year: int) -> bool:
        """Whether ``year``'s days off come from an official arrangement (not computed)."""
        return self.official_years is None or year in self.official_years

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
            return False
        if not self.is_official(day.year) and day in statutory_holidays(day.year):
            return False
        return day.weekday() < 5

    def add(self, start: date, days: int) -> date:
        """The date ``days`` working days after ``start`` (``start`` itself does not count)."""
        if days < 0:
            raise ValueError("days must be non-negative")
        current = start
        remaining = days
        while remaining:
            current += timedelta(days=1)
            if self.is_working_day(current):
                remaining -= 1
        return current

    def between(self, start: date, end: date) -> int:
        """Working days after ``start`` up to and including ``end`` (0 if ``end`` <= ``start``)."""
        count = 0
        current = start
        while current < end:
            current += timedelta(days=1)
            if self.is_working_day(current):
                count += 1
        return count

    def relies_on_estimate(self, end: date, start: date | None = None) -> bool:
        """Whether a count from ``start`` (default: ``end``) to ``end`` crosses a computed year."""
        first = (start or end).year
        return any(not self.is_official(y) for y in range(min(first, end.year), max(first, end.year) + 1))

    def missing_next_year(self, today: date) -> int | None:
        """Next year, from 1 November while its official arrangement is missing; else None."""
        if (today.month, today.day) >= WARN_FROM and not self.is_official(today.year + 1):
            return today.year + 1
        return None

    def days_off(self, year: int) -> list[date]:
        """Every day off of ``year`` besides ordinary weekends (official, or computed), sorted."""
        if self.is_official(year):
            return sorted(d for d in self.holidays if d.year == year)
        return sorted(statutory_holidays(year))


@functools.cache
def default_calendar() -> WorkCalendar:
    return WorkCalendar.from_file()
