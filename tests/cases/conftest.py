"""A platform with the case service on a real database (PostgreSQL or SQLite)."""

from __future__ import annotations

import pytest

from backend import db
from backend.cases.tables import (
    CallbackInbox,
    CallbackNonce,
    CaseCounter,
    CaseDocument,
    CaseEvent,
    CaseFile,
    CaseItem,
    CaseMaterial,
)
from backend.identity.actor import Actor
from backend.identity.tables import TABLES as IDENTITY_TABLES
from backend.jobs.tables import Job
from backend.lib.clock import VirtualClock
from backend.settings import load_settings
from tests.cases.support import HAPPY_PERSON


async def clean_database() -> None:
    from backend.administration.tables import CatalogPublication, HolidayImport
    from backend.cases.progress import CaseProgress
    from backend.notifications.tables import SmsMessage
    from backend.ratings.tables import RatingPush

    for table in (
        CatalogPublication,  # what an administration test published or imported decides plans and due dates
        HolidayImport,
        SmsMessage,  # the outboxes to outside systems: a test counts what it sent itself
        RatingPush,
        CaseProgress,
        CaseEvent,
        CaseDocument,
        CaseMaterial,
        CaseItem,
        CallbackInbox,
        CallbackNonce,
        CaseCounter,
        Job,
        CaseFile,
        *IDENTITY_TABLES,
    ):
        await table.delete(force=True)


async def clean_database_at(url: str) -> None:
    """``clean_database`` on ``url`` before a platform starts there: a platform's worker would
    otherwise take up the jobs earlier tests left, and their callbacks could land after the clean."""
    db.bind(db.make_engine(load_settings(env={}, database_url=url)))
    await clean_database()


@pytest.fixture(params=["postgres", "sqlite"])
async def platform(request, tmp_path):
    from backend.app import build_platform

    url = request.getfixturevalue("pg_url" if request.param == "postgres" else "sqlite_url")
    settings = load_settings(
        env={}, database_url=url, data_dir=str(tmp_path), test_env=True, connector_base_url="http://127.0.0.1:9/sim"
    )
    platform = build_platform(settings, clock=VirtualClock(start_ms=1_795_000_000_000))
    db.bind(platform.engine)
    await db.start(platform.engine, settings)
    await clean_database()
    yield platform
    for connector in platform.connectors.values():
        await connector.aclose()
    await db.stop(platform.engine)


@pytest.fixture
def applicant() -> Actor:
    return Actor(id=HAPPY_PERSON, name="林晓燕")
