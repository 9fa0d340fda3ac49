"""Human-readable, unique case numbers: ``ZX`` + date + daily sequence + check digit.

Example ``ZX20261126-000123-4``. The check digit (Luhn over the digits) catches a
mistyped number at a kiosk keypad or over the phone before any lookup.
"""

from __future__ import annotations

import re

from backend.cases.tables import CaseCounter
from backend.db import raw
from backend.lib.clock import to_datetime

_FORMAT = re.compile(r"ZX(\d{8})-?(\d{6})-?(\d)", re.ASCII)


def luhn_digit(digits: str) -> str:
    total = 0
    for i, ch in enumerate(reversed(digits)):
        n = int(ch)
        if i % 2 == 0:
            n *= 2
            if n > 9:
                n -= 9
        total += n
    return str((10 - total % 10) % 10)


def format_number(day: str, seq: int) -> str:
    body = f"{day}{seq:06d}"
    return f"ZX{day}-{seq:06d}-{luhn_digit(body)}"


def parse_number(text: str) -> str | None:
    """The canonical number for ``text`` (spaces, case and dashes forgiven), or None if invalid."""
    compact = re.sub(r"[\s-]", "", text.upper())
    if compact.isdigit():
        compact = "ZX" + compact
    match = _FORMAT.fullmatch(compact)
    if not match or luhn_digit(match[1] + match[2]) != match[3]:
        return None
    return f"ZX{match[1]}-{match[2]}-{match[3]}"


async def next_number(now_ms: int) -> str:
    """Allocate the next number of the day (call inside the submitting transaction)."""
    day = to_datetime(now_ms + 8 * 3600 * 1000).strftime("%Y%m%d")  # the day in China Standard Time
    rows = await raw(
        CaseCounter,
        "INSERT INTO case_counter (day, value) VALUES ({}, 1) "
        "ON CONFLICT (day) DO UPDATE SET value = case_counter.value + 1 RETURNING value",
        day,
    )
    return format_number(day, rows[0]["value"])
