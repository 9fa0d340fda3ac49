"""Working-day arithmetic (工作日) with a configurable holiday calendar.

Promised time limits (承诺时限) count working days: Monday to Friday, minus official
holidays, plus make-up working days (调休). The calendar is data
(``backend/lib/data/holidays.yaml`` by default, or any file in the same shape).
"""

from __future__ import annotations

import functools
from datetime import date, timedelta
from pathlib import Path

import msgspec

DEFAULT_CALENDAR = Path(__file__).parent / "data" / "holidays.yaml"


class _Year(msgspec.Struct, forbid_unknown_fields=True):
    holidays: list[date] = []
    workdays: list[date] = []


class WorkCalendar:
    """Answers "is this a working day" and adds working days to dates."""

    def __init__(
        self, holidays: set[date] | frozenset[date] = frozenset(), workdays: set[date] | frozenset[date] = frozenset()
    ) -> None:
        overlap = set(holidays) & set(workdays)
        if overlap:
            raise ValueError(f"dates both holiday and make-up working day: {sorted(overlap)}")
        self.holidays = frozenset(holidays)
        self.workdays = frozenset(workdays)

    @classmethod
    def from_file(cls, path: Path | str = DEFAULT_CALENDAR) -> WorkCalendar:
        years = msgspec.yaml.decode(Path(path).read_bytes(), type=dict[int, _Year])
        holidays = {d for y in years.values() for d in y.holidays}
        workdays = {d for y in years.values() for d in y.workdays}
        return cls(holidays, workdays)

    def is_working_day(self, day: date) -> bool:
        if day in self.workdays:
            return True
        if day in self.holidays:
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


@functools.cache
def default_calendar() -> WorkCalendar:
    return WorkCalendar.from_file()
