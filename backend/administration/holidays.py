"""节假日安排: importing a year's official holiday arrangement, with a diff and an audit record.

The shipped ``holidays.yaml`` holds the arrangements known at release; an administrator imports
a newer one (usually next year's, published by the General Office in November). Each import
is a ``holiday_import`` row (who, when, the source, the diff): the newest row of a year is in
force. An import moves the promised date (``due_on``) of every open item that counts working
days across the changed days; each move goes on the case's timeline (``item.due_changed``)
and the applicant gets an in-app notification: no date changes silently.

This process swaps its calendar at once; other processes load the imports when they start
(``refresh``) — run the import before a year's first changed day, as the warning asks.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from datetime import date
from typing import Any

import msgspec

from backend.administration.tables import HolidayImport
from backend.cases import states as st
from backend.cases import timeline
from backend.cases.common import cst_date
from backend.cases.tables import CaseFile, CaseItem
from backend.db import writing_transaction
from backend.identity.actor import require_admin
from backend.lib.problems import ProblemError
from backend.lib.workdays import (
    STATUTORY_SOURCE,
    Arrangement,
    WorkCalendar,
    decode_arrangements,
)
from backend.notifications import notify

log = logging.getLogger("backend.administration.holidays")
NOTICE = "NOTICE"  # the case's own timed stage counts calendar days; its end never moves


class ArrangementInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """One year's arrangement as the General Office's notice lists it."""

    year: int
    holidays: list[date]
    workdays: list[date] = []
    source: str = ""
    """The notice's title and number, or its address."""
    note: str = ""


class ArrangementDiff(msgspec.Struct, kw_only=True):
    year: int
    was_official: bool
    """False: the year was computed from the statutory holidays until now."""
    holidays_added: list[str]
    holidays_removed: list[str]
    workdays_added: list[str]
    workdays_removed: list[str]
    moved: int = 0
    """Promised dates of open items that change (preview: that would change)."""


class ImportView(msgspec.Struct, kw_only=True):
    id: int
    year: int
    source: str
    note: str
    imported_at: int
    imported_by: str
    diff: dict[str, Any]
    moved: int


class YearView(msgspec.Struct, kw_only=True):
    year: int
    official: bool
    source: str
    days_off: list[str]


class CalendarState(msgspec.Struct, kw_only=True):
    years: list[YearView]
    missing_next_year: int | None
    """From 1 November: next year while its arrangement is missing (the staff page warns)."""
    warning: dict[str, str] | None
    imports: list[ImportView]


def _check(data: ArrangementInput) -> Arrangement:
    if not 2000 <= data.year <= 2100:
        raise ProblemError(422, "invalid_year", "年份应在2000至2100之间。 Year out of range.", field="year")
    if not data.source.strip():
        raise ProblemError(
            422, "source_required", "请填写依据（国务院办公厅通知的名称或网址）。 Name the notice.", field="source"
        )
    payload = msgspec.yaml.encode({data.year: {"holidays": data.holidays, "workdays": data.workdays}})
    try:
        decode_arrangements(payload)
    except ValueError as exc:
        field = "holidays" if "another year" in str(exc) else "workdays"
        raise ProblemError(
            422,
            "invalid_arrangement",
            f"节假日安排有误：{exc}。 Inconsistent arrangement (another year's dates, or a day both off and on).",
            field=field,
        ) from exc
    return Arrangement(holidays=sorted(set(data.holidays)), workdays=sorted(set(data.workdays)), source=data.source)


def _diff(cal: WorkCalendar, arr: Arrangement, year: int) -> ArrangementDiff:
    was_official = cal.is_official(year)
    old_off = set(cal.days_off(year))
    old_on = {d for d in cal.workdays if d.year == year} if was_official else set()
    new_off, new_on = set(arr.holidays), set(arr.workdays)

    def iso(days: set[date]) -> list[str]:
        return [d.isoformat() for d in sorted(days)]

    return ArrangementDiff(
        year=year,
        was_official=was_official,
        holidays_added=iso(new_off - old_off),
        holidays_removed=iso(old_off - new_off),
        workdays_added=iso(new_on - old_on),
        workdays_removed=iso(old_on - new_on),
    )


def with_arrangement(cal: WorkCalendar, year: int, arr: Arrangement) -> WorkCalendar:
    """A copy of ``cal`` where ``year`` follows ``arr``."""
    years = {y: a for y, a in cal.arrangements.items() if y != year}
    years[year] = arr
    return WorkCalendar.from_arrangements(years)


async def _open_items() -> list[dict[str, Any]]:
    rows = await CaseItem.select(
        CaseItem.id,
        CaseItem.ref,
        CaseItem.code,
        CaseItem.case_file,
        CaseItem.due_on,
        CaseItem.queued_at,
        CaseItem.promised_days,
        CaseItem.status,
    ).where((CaseItem.due_on != "") & CaseItem.queued_at.is_not_null() & (CaseItem.promised_days > 0))
    return [r for r in rows if r["status"] not in st.ITEM_TERMINAL and r["code"] != NOTICE]


def _moves(items: list[dict[str, Any]], new: WorkCalendar) -> list[tuple[dict[str, Any], str]]:
    out = []
    for item in items:
        due = new.add(cst_date(item["queued_at"]), item["promised_days"]).isoformat()
        if due != item["due_on"]:
            out.append((item, due))
    return out


def _import_view(r: dict[str, Any]) -> ImportView:
    return ImportView(
        id=r["id"],
        year=r["year"],
        source=r["source"],
        note=r["note"],
        imported_at=r["imported_at"],
        imported_by=r["imported_by"],
        diff=msgspec.json.decode(r["diff"]),
        moved=r["moved"],
    )


async def imported_arrangements() -> dict[int, Arrangement]:
    """The arrangement in force per imported year (its newest import)."""
    out: dict[int, Arrangement] = {}
    for r in await HolidayImport.select().order_by(HolidayImport.id):
        out[r["year"]] = Arrangement(
            holidays=msgspec.json.decode(r["holidays"], type=list[date]),
            workdays=msgspec.json.decode(r["workdays"], type=list[date]),
            source=r["source"],
        )
    return out


async def refresh(platform) -> WorkCalendar:
    """Overlay the imported arrangements on the shipped calendar, for this process."""
    imported = await imported_arrangements()
    if imported:
        cal = platform.cases.calendar
        platform.cases.calendar = WorkCalendar.from_arrangements({**cal.arrangements, **imported})
    return platform.cases.calendar


async def latest_import_id() -> int:
    """The newest import's id (0: none): what a process compares to know its calendar is current."""
    rows = await HolidayImport.select(HolidayImport.id).order_by(HolidayImport.id, ascending=False).limit(1)
    return rows[0]["id"] if rows else 0


async def follow_imports(platform, stop: asyncio.Event, every: float = 30.0) -> None:
    """Keep this process's calendar in step with imports made by any process (every API process and
    worker computes due dates): one indexed read every ``every`` seconds, a refresh when it moved.
    The first check counts every import as new, so one made between this process's start-up load
    and its first check is not missed (a refresh is idempotent)."""
    seen = 0
    while not stop.is_set():
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(stop.wait(), every)
        if stop.is_set():
            return
        try:
            latest = await latest_import_id()
            if latest != seen:
                await refresh(platform)
                seen = latest
                log.info("holiday arrangement imports reloaded", extra={"import": latest})
        except Exception:  # the database is away for a moment: the calendar in force stays, try again
            log.warning("holiday imports not checked", exc_info=True)


async def calendar_state(platform, actor) -> CalendarState:
    """The years known, which are computed, the 1 November warning and the import log."""
    require_admin(actor)
    cal = platform.cases.calendar
    today = cst_date(platform.clock.now_ms())
    years = sorted({*cal.arrangements, today.year, today.year + 1})
    missing = cal.missing_next_year(today)
    warning = None
    if missing:
        warning = {
            "zh-CN": f"{missing}年节假日安排尚未导入：跨入{missing}年的承诺办结日期按法定节假日推算（预计），"
            "请在国务院办公厅发布通知后导入。",
            "en": f"The {missing} holiday arrangement is not imported: due dates in {missing} are estimated "
            "from the statutory holidays. Import it once the General Office publishes it.",
        }
    rows = await HolidayImport.select().order_by(HolidayImport.id, ascending=False).limit(50)
    return CalendarState(
        years=[
            YearView(
                year=y,
                official=cal.is_official(y),
                source=cal.arrangements[y].source if y in cal.arrangements else STATUTORY_SOURCE,
                days_off=[d.isoformat() for d in cal.days_off(y)],
            )
            for y in years
        ],
        missing_next_year=missing,
        warning=warning,
        imports=[_import_view(r) for r in rows],
    )


async def preview(platform, actor, data: ArrangementInput) -> ArrangementDiff:
    """What an import would change (days and promised dates), without changing anything."""
    require_admin(actor)
    arr = _check(data)
    cal = platform.cases.calendar
    diff = _diff(cal, arr, data.year)
    diff.moved = len(_moves(await _open_items(), with_arrangement(cal, data.year, arr)))
    return diff


async def import_arrangement(platform, actor, data: ArrangementInput) -> ImportView:
    """Put a year's arrangement in force: audit row, moved promised dates on timelines, notifications."""

    require_admin(actor)
    arr = _check(data)
    now = platform.clock.now_ms()
    old = platform.cases.calendar
    new = with_arrangement(old, data.year, arr)
    diff = _diff(old, arr, data.year)
    async with writing_transaction(platform.engine):
        moves = _moves(await _open_items(), new)
        diff.moved = len(moves)
        rows = await HolidayImport.insert(
            HolidayImport(
                year=data.year,
                holidays=msgspec.json.encode(arr.holidays).decode(),
                workdays=msgspec.json.encode(arr.workdays).decode(),
                source=data.source,
                note=data.note[:1000],
                diff=msgspec.json.encode(diff).decode(),
                moved=len(moves),
                imported_at=now,
                imported_by=actor.id,
            )
        ).returning(HolidayImport.id)
        owners = {
            c["id"]: (c["created_by"], c["public_id"])
            for c in await CaseFile.select(CaseFile.id, CaseFile.created_by, CaseFile.public_id).where(
                CaseFile.id.is_in(list({item["case_file"] for item, _ in moves}) or [0])
            )
        }
        for item, due in moves:
            await CaseItem.update({CaseItem.due_on: due, CaseItem.updated_at: now}).where(CaseItem.id == item["id"])
            data_ = {"from": item["due_on"], "to": due, "year": data.year, "source": data.source}
            await timeline.append(
                item["case_file"],
                st.ITEM_DUE_CHANGED,
                at=now,
                item_ref=item["ref"],
                actor=actor.id,
                message=f"节假日安排调整，承诺办结日期由 {item['due_on']} 改为 {due}",
                data=data_,
            )
            person, public_id = owners[item["case_file"]]
            await notify(platform, person, "due_date_changed", {"case": public_id, "item": item["code"], **data_})
    platform.cases.calendar = new
    for public_id in {owners[item["case_file"]][1] for item, _ in moves}:
        platform.cases.forget(public_id)  # cached status views show the new dates
    row = await HolidayImport.select().where(HolidayImport.id == rows[0]["id"]).first()
    assert row is not None  # inserted above
    return _import_view(row)
