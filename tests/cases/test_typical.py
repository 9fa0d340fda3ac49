"""通常用时: median and 90th percentile of working days per matter and prefecture, once there are enough cases."""

from __future__ import annotations

import asyncio
from datetime import date

from backend.cases.common import cst_date
from backend.cases.typical import TypicalDurations, summarize
from backend.lib.workdays import WorkCalendar

MONDAY = 1_764_547_200_000  # 2025-12-01 08:00 CST, a Monday
DAY = 86_400_000


def rows(code: str, region: str, working_days: list[int]) -> list[dict]:
    # Monday to Friday only: n ≤ 4 working days after a Monday is n calendar days
    return [{"code": code, "region": region, "sent_at": MONDAY, "closed_at": MONDAY + n * DAY} for n in working_days]


def calendar() -> WorkCalendar:
    return WorkCalendar(holidays=set(), workdays=set())


def test_median_and_p90_per_matter_and_prefecture():
    data = rows("TAX-UNIFIED", "350102", [1] * 10 + [2] * 8 + [4] * 2) + rows("TAX-UNIFIED", "350103", [3] * 5)
    table = summarize(data, calendar(), cst_date, min_cases=20)
    fuzhou = table[("TAX-UNIFIED", "350100")]  # counties of one city count together
    assert (fuzhou.median_days, fuzhou.p90_days, fuzhou.cases) == (2, 3, 25)


def test_too_few_cases_say_nothing():
    assert summarize(rows("BANK", "350203", [1] * 19), calendar(), cst_date, min_cases=20) == {}
    assert ("BANK", "350200") in summarize(rows("BANK", "350203", [1] * 20), calendar(), cst_date, min_cases=20)


def test_the_aggregate_is_read_once_per_lifetime():
    reads: list[int] = []

    async def read(since: int) -> list[dict]:
        reads.append(since)
        await asyncio.sleep(0)
        return rows("SEAL", "350102", [2] * 20)

    async def main() -> None:
        cached = TypicalDurations(read, calendar(), cst_date, ttl=60, min_cases=20)
        tables = await asyncio.gather(*(cached.table(MONDAY) for _ in range(5)))
        assert all(t[("SEAL", "350100")].median_days == 2 for t in tables)
        await cached.table(MONDAY)
        assert len(reads) == 1  # concurrent and later callers share one read

    asyncio.run(main())
    assert date(2025, 12, 1).weekday() == 0
