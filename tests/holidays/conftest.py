"""Holiday-arrangement tests use the back-office platform fixture, starting on 2026-12-24
(a week before a year whose arrangement is not published)."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone

import pytest

from tests.workbench.conftest import platform  # noqa: F401 - the shared fixture

CST = timezone(timedelta(hours=8))


@pytest.fixture
def start_ms() -> int:
    return int(datetime(2026, 12, 24, 10, 0, tzinfo=CST).timestamp() * 1000)
