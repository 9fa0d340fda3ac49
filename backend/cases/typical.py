"""通常用时: how long a matter usually takes in a region, from the cases completed there.

For each item code and prefecture (设区市, the first four digits of the county code), the
working days from sending an item to its agency to its completion, over the last year's
completed items: the median and the 90th percentile, once there are ``MIN_CASES`` of them
(fewer say little, and could point at one enterprise). Computed in one aggregate read, kept
for ``ttl`` seconds per process and shared by every case view: never a scan per request.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterable
from typing import Any

import msgspec

MIN_CASES = 20
WINDOW_DAYS = 365
TTL_SECONDS = 600.0


class Typical(msgspec.Struct, frozen=True):
    """Working days within which half (``median_days``) and nine in ten (``p90_days``) of ``cases`` completed."""

    median_days: int
    p90_days: int
    cases: int


def prefecture(region: str) -> str:
    """The 设区市 of a county-level GB/T 2260 code."""
    return region[:4] + "00" if len(region) >= 4 else region


def _rank(values: list[int], share: float) -> int:
    """Nearest-rank percentile of sorted ``values``: the smallest value at or above ``share`` of them."""
    index = max(0, -(-len(values) * share // 1) - 1)
    return values[int(index)]


def summarize(
    rows: Iterable[dict[str, Any]], calendar, cst_date, min_cases: int = MIN_CASES
) -> dict[tuple[str, str], Typical]:
    """(item code, prefecture) → Typical, from completed items' ``code``, ``region``, ``sent_at``, ``closed_at``."""
    days: dict[tuple[str, str], list[int]] = {}
    for r in rows:
        if r["sent_at"] is None or r["closed_at"] is None:
            continue
        taken = calendar.between(cst_date(r["sent_at"]), cst_date(r["closed_at"]))
        days.setdefault((r["code"], prefecture(r["region"])), []).append(taken)
    out = {}
    for key, values in days.items():
        if len(values) >= min_cases:
            values.sort()
            out[key] = Typical(median_days=_rank(values, 0.5), p90_days=_rank(values, 0.9), cases=len(values))
    return out


class TypicalDurations:
    """The cached aggregate; ``read(since_ms)`` returns the completed items' rows (one statement)."""

    def __init__(self, read, calendar, cst_date, *, ttl: float = TTL_SECONDS, min_cases: int = MIN_CASES) -> None:
        self._read, self.calendar, self.cst_date = read, calendar, cst_date
        self.ttl, self.min_cases = ttl, min_cases
        self._table: dict[tuple[str, str], Typical] = {}
        self._until = 0.0
        self._loading: asyncio.Future | None = None

    async def table(self, now_ms: int) -> dict[tuple[str, str], Typical]:
        """Every known figure; read again at most once per ``ttl`` (concurrent callers share the read)."""
        if time.monotonic() < self._until:
            return self._table
        if self._loading is None:
            self._loading = asyncio.ensure_future(self._load(now_ms))
        try:
            return await asyncio.shield(self._loading)
        finally:
            if self._loading is not None and self._loading.done():
                self._loading = None

    async def _load(self, now_ms: int) -> dict[tuple[str, str], Typical]:
        rows = await self._read(now_ms - WINDOW_DAYS * 86_400_000)
        self._table = summarize(rows, self.calendar, self.cst_date, self.min_cases)
        self._until = time.monotonic() + self.ttl
        return self._table
