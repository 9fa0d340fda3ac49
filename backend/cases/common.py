"""What the case service's modules share: job kinds, action sets, prebuilt reads, capacity and access,
and small helpers (JSON columns, China Standard Time dates, the promise of a plan)."""

from __future__ import annotations

import functools
import logging
from collections.abc import Awaitable, Callable
from datetime import date
from typing import Any

import msgspec

from backend.cases import states as st
from backend.cases.schemas import (
    EventTypeView,
    Label,
    Requirement,
)
from backend.cases.tables import CaseItem
from backend.catalog import get_catalog
from backend.catalog import plan as make_plan
from backend.catalog.engine import promised_text
from backend.catalog.schemas import Blocker
from backend.identity.actor import Actor
from backend.lib.clock import to_datetime
from backend.lib.language import bilingual
from backend.lib.problems import FieldError, ProblemError

log = logging.getLogger("backend.cases")

SEND_JOB = "cases.send"
SEND_ATTEMPTS = 15  # retries with capped backoff before 推送失败 (a person re-drives it)
POLL_JOB = "cases.poll"
EXPIRY_JOB = "cases.draft_expiry"
NOTICE_END_JOB = "cases.notice_end"
NOTICE = "NOTICE"  # the pseudo-item of a timed stage (公示期 / 异议期) the platform runs itself

# What only the applicant (or whoever may act for the enterprise) does to a case; staff may only read it.
APPLICANT_ACTIONS = frozenset({"update", "upload", "sign", "precheck", "submit", "withdraw", "correct"})

DAY_MS = 24 * 3600 * 1000

STATUS_CACHE_MAX = 50_000
VIEW_CACHE_MAX = 5_000  # whole views are some kilobytes each
CST_MS = 8 * 3600 * 1000

# The reads behind every case view and submission, prebuilt: building them with Piccolo cost more
# than running them (docs/benchmarks.md).
CASE_SQL = "SELECT * FROM case_file WHERE public_id = {}"
ITEMS_SQL = "SELECT * FROM case_item WHERE case_file = {} ORDER BY id"
DOCUMENTS_SQL = "SELECT id, item_ref, name, media_type, sha256, url FROM case_document WHERE case_file = {} ORDER BY id"
MATERIALS_SQL = (
    "SELECT id, code, filename, media_type, size, sha256, at FROM case_material WHERE case_file = {} ORDER BY id"
)
EVENTS_SQL = "SELECT * FROM case_event WHERE case_file = {} ORDER BY seq"
# An item's columns (name → database name) and their defaults, all constants: read from Piccolo
# once, as its column objects are slow to ask (a ForeignKey resolves every attribute lookup).
ITEM_COLUMNS = {c._meta.name: c._meta.db_column_name for c in CaseItem._meta.columns if c._meta.name != "id"}
ITEM_DEFAULTS = {c._meta.name: c.get_default_value() for c in CaseItem._meta.columns if c._meta.name != "id"}


class Capacity(msgspec.Struct, frozen=True, kw_only=True):
    """Why a person may act for an enterprise, as the case context needs it: for the whole case, or
    (a mandate for some matters, 授权委托) only for the item codes in ``items``."""

    whole_case: bool = True
    items: tuple[str, ...] = ()


class Access(msgspec.Struct, frozen=True, kw_only=True):
    """What ``CaseService._authorize`` allowed an actor on one case."""

    items: frozenset[str] | None = None
    """Item codes a partial mandate covers; None: the whole case."""
    staff: bool = False
    """Staff (read-only, audited)."""
    agencies: frozenset[str] | None = None
    """Staff: the agencies whose items and fields they see; None: everything (administrators)."""

    def covers(self, item_code: str) -> bool:
        """True if the actor's capacity extends to items of ``item_code``."""
        return self.items is None or item_code in self.items


WHOLE_CASE = Access()
# What binds the whole merged application: not for an agent whose mandate covers only some items.
WHOLE_CASE_ACTIONS = frozenset(
    {"update", "upload", "sign", "precheck", "submit", "withdraw", "material", "signatures", "application_pdf"}
)
# What only agency staff with an item in the case do.
STAFF_ACTIONS = frozenset({"object"})
# What only administrators do to a case.
ADMIN_ACTIONS = frozenset({"redrive"})

Gate = Callable[[Any, "Actor"], Awaitable[list[Requirement]]]
Publisher = Callable[[str, list[dict[str, Any]]], Awaitable[None]]


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _load(text: str | None, default: Any) -> Any:
    return msgspec.json.decode(text) if text else default


def require_draft(
    row: dict[str, Any], detail: str = "申请已提交，不能再修改。 The case was submitted and can no longer be edited."
) -> None:
    """409 ``case_not_editable`` unless the case ``row`` is still a draft."""
    if row["status"] != st.DRAFT:
        raise ProblemError(409, "case_not_editable", detail)


def case_blocked(blockers: list[Blocker]) -> ProblemError:
    """422 ``case_blocked`` naming each blocker (a plan's or an agency's, one shape): one error per
    blocker, its field ``blockers.<code>`` and its message, narrowed to the request's language at the
    edge (``backend.lib.language``)."""
    return ProblemError(
        422,
        "case_blocked",
        "存在不能提交的情形，请先按提示处理。 Something blocks this application.",
        errors=[
            FieldError(
                field=f"blockers.{b.code}",
                code=b.code,
                message=bilingual(b.message.zh, b.message.en) or b.code,
            )
            for b in blockers
        ],
    )


def _field_message(schema: dict[str, Any], path: str, problem: str) -> str:
    """A form problem that names its field (the form's own label), e.g. "请填写：清算组负责人"."""
    prop = schema.get("properties", {}).get(path.split(".", 1)[0].split("[", 1)[0], {})
    zh, en = prop.get("title") or path, prop.get("x-title-en") or prop.get("title") or path
    if problem == "必填":
        return bilingual(f"请填写：{zh}", f"Fill in: {en}")
    return bilingual(f"请修改：{zh}（{problem}）", f"Correct: {en}")


def promised_days(items: list[dict[str, Any]]) -> int:
    """承诺时限 of a submitted case: the longest chain of its items' promised working days."""
    by_ref = {i["ref"]: i for i in items}
    done: dict[str, int] = {}

    def finish(ref: str, seen: frozenset[str] = frozenset()) -> int:
        if ref not in done:
            item = by_ref[ref]
            deps = [d for d in _load(item["depends_on"], []) if d in by_ref and d not in seen]
            done[ref] = item["promised_days"] + max((finish(d, seen | {ref}) for d in deps), default=0)
        return done[ref]

    return max((finish(ref) for ref in by_ref), default=0)


def promise(catalog, items: list[dict[str, Any]]) -> tuple[int, Label | None]:
    """(working days, the promise in words) of a submitted case, worded as its plan was: a timed stage
    (公示期 / 异议期, the NOTICE pseudo-item) counts in calendar days of its own, the items after it in
    working days along the longest chain (``promised_days``)."""
    stage = next((i for i in items if i["code"] == NOTICE), None)
    if stage is None:
        return promised_days(items), None
    working = promised_days(items)  # the stage itself promises no working days
    period = next((p for p in catalog.periods if p.code == stage["office"]), None)
    if period is None:
        return working, None
    text = promised_text(working, period.days, [period], [f"NOTICE:{period.code}"])
    return working, Label(text.zh, text.en)


def event_label(event_type: str, item: Label | None = None) -> Label | None:
    """What the applicant's timeline says of an event (``states.EVENT_LABELS``), the matter named."""
    text = st.EVENT_LABELS.get(event_type)
    if text is None:
        return None
    zh, en = text
    return Label(zh.format(item=item.zh if item else ""), en.format(item=item.en if item else ""))


def event_types() -> list[EventTypeView]:
    """Every timeline event type, with its label as a template ("{item}": the matter's name)."""
    return [
        EventTypeView(type=t, label=Label(*st.EVENT_LABELS[t]) if t in st.EVENT_LABELS else None)
        for t in st.EVENT_TYPES
    ]


def cst_date(ms: int) -> date:
    """The calendar date in China Standard Time."""
    return to_datetime(ms + CST_MS).date()


def update_sql(table: str, row_id: int, changes: dict[str, Any]) -> tuple[str, list[Any]]:
    """SQL and values setting ``changes`` (column name → value) on one row of ``table``: to run
    with ``Table.raw`` or in the same statement as a timeline event (``timeline.append(along=...)``)."""
    # Table and column names come from our code, never from a request; the values are bound.
    sets = ", ".join(f"{name} = {{}}" for name in changes)
    return f"UPDATE {table} SET {sets} WHERE id = {{}}", [*changes.values(), row_id]  # noqa: S608 - see above


def _items_insert(
    case_id: int, items: list[dict[str, Any]], now: int
) -> tuple[tuple[str, list[Any]], list[dict[str, Any]]]:
    """The statement inserting a case's items (their fields; the rest take the table's defaults)
    and the rows it stores, in order (without ids, which no view shows)."""
    rows = [ITEM_DEFAULTS | item | {"case_file": case_id, "updated_at": now} for item in items]
    given = {name for item in items for name in item} | {"case_file", "updated_at"}
    columns = [name for name in ITEM_COLUMNS if name in given]
    values = [row[name] for row in rows for name in columns]
    placeholders = "(" + ", ".join(["{}"] * len(columns)) + ")"
    names = ", ".join(ITEM_COLUMNS[name] for name in columns)
    statement = f"INSERT INTO case_item ({names}) VALUES {', '.join([placeholders] * len(items))}"  # noqa: S608 - our columns
    return (statement, values), rows


@functools.lru_cache(maxsize=256)
def _plan(
    catalog_version: str,
    entity_type: str,
    region: str,
    answers: str,
    facts: tuple[tuple[str, Any], ...],
    jurisdiction: str | None,
) -> Any:
    """The plan for a situation: a pure function of these (the catalog version is immutable),
    worked out once per situation rather than on every submission, draft view and upload (~8% of
    a submission's CPU). A situation whose answers are incomplete raises, and is not kept."""
    return make_plan(
        get_catalog(catalog_version),
        entity_type,
        region,
        _load(answers, {}),
        facts=dict(facts),
        jurisdiction=jurisdiction,
    )
