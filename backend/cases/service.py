"""The case service: drafts, pre-check, materials, submission, corrections and withdrawal.

Routes, workers and tests all call this. Every state change happens in one writing
transaction that also appends to the hash-chained timeline and, where work follows,
writes the job row (transactional outbox); live updates go out after the commit.
"""

from __future__ import annotations

import asyncio
import functools
import hashlib
import logging
import time
import uuid
from collections.abc import Awaitable, Callable, Iterable
from datetime import date, timedelta
from typing import Any

import msgspec
from litestar.di import NamedDependency
from piccolo.engine.postgres import PostgresEngine

from backend import db
from backend.cases import states as st
from backend.cases import subjects, timeline
from backend.cases.materials import check_upload
from backend.cases.numbering import next_number
from backend.cases.schemas import (
    CaseStatus,
    CaseSummary,
    CaseView,
    EventView,
    ItemStatus,
    ItemView,
    Label,
    MaterialView,
    Readiness,
    Requirement,
)
from backend.cases.tables import CaseDocument, CaseEvent, CaseFile, CaseItem, CaseMaterial
from backend.cases.typical import Typical, TypicalDurations, prefecture
from backend.catalog import get_catalog, validate_draft, validate_submission
from backend.catalog import plan as make_plan
from backend.catalog.engine import promised_text
from backend.catalog.schemas import Blocker, Ref, Text
from backend.db import raw, stored
from backend.jobs.tables import Job
from backend.lib.clock import to_datetime
from backend.lib.language import bilingual, split
from backend.lib.problems import FieldError, ProblemError
from backend.lib.validators import validate_uscc
from backend.lib.workdays import WorkCalendar
from backend.registration import EnterpriseRecord

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


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """Who is acting: a person (applicant, agent, staff) or the platform itself."""

    id: str
    name: str = ""
    kind: str = "person"  # person | staff | system | agency
    roles: frozenset[str] = frozenset()
    agencies: frozenset[str] = frozenset()  # business-system codes an agency staff member works for
    regions: tuple[str, ...] = ()  # GB/T 2260 prefixes in a staff member's scope ("35" = the province)
    hall: str | None = None  # service hall of window staff and kiosk terminals

    def in_region(self, region: str) -> bool:
        return any(region.startswith(prefix) for prefix in self.regions)


SYSTEM = Actor(id="platform", name="平台", kind="system")
STAFF_ROLES = frozenset({"agency_staff", "window_staff", "admin"})


def actor_of(principal: Any) -> Actor:
    """The case context's actor for identity's authenticated ``Principal``."""
    staff = bool(STAFF_ROLES & set(principal.roles))
    return Actor(
        id=principal.person_id or principal.subject,
        name=principal.name,
        kind="staff" if staff and not principal.person_id else "person",
        roles=frozenset(principal.roles),
        agencies=frozenset(principal.agencies),
        regions=tuple(principal.regions),
        hall=principal.hall,
    )


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
ActorDep = NamedDependency[Actor]
"""Route parameter type: ``actor: ActorDep`` injects the authenticated person."""

Gate = Callable[[Any, "Actor"], Awaitable[list[Requirement]]]
Publisher = Callable[[str, list[dict[str, Any]]], Awaitable[None]]


def _json(value: Any) -> str:
    return msgspec.json.encode(value).decode()


def _load(text: str | None, default: Any) -> Any:
    return msgspec.json.decode(text) if text else default


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


class CaseService:
    """Everything that changes a case."""

    def __init__(
        self,
        platform,
        calendar: WorkCalendar,
        *,
        publish: Publisher | None = None,
        draft_ttl_days: int = 30,
        draft_warning_days: int = 5,
        poll_seconds: float = 300.0,
        status_cache_seconds: float = 1.0,
    ) -> None:
        self.platform = platform
        self.calendar = calendar
        self.publish = publish
        self.gates: list[Gate] = []  # identity adds: face verification, signatures
        self.draft_ttl_days = draft_ttl_days
        self.draft_warning_days = draft_warning_days
        self.poll_seconds = poll_seconds
        # the acting capacity (the identity context plugs in registration record and mandates)
        self.capacity_for: Callable[[Actor, str], Awaitable[Capacity | None]] = self._registered_party
        self.status_cache_seconds = status_cache_seconds
        self._status_cache: dict[str, tuple[float, dict[str, Any], list[dict[str, Any]], CaseStatus]] = {}
        self._status_loading: dict[
            str, asyncio.Future[tuple[float, dict[str, Any], list[dict[str, Any]], CaseStatus]]
        ] = {}
        # The case page's read: a submitted case's whole view kept like its status (same lifetime,
        # evicted by the same ``forget``); ``_changes`` counts forgets, so a view read while the
        # case changed is not kept.
        self._view_cache: dict[str, tuple[float, dict[str, Any], CaseView, dict[str, bytes]]] = {}
        self._changes = 0
        self.typical = TypicalDurations(self._completed_items, calendar, cst_date)

    # ------------------------------------------------------------------ plumbing

    @property
    def clock(self):
        return self.platform.clock

    def transaction(self):
        return db.writing_transaction(self.platform.engine)

    async def _lock(self, case_id: int) -> None:
        """Serialise writers of one case (SQLite serialises all writers already)."""
        if isinstance(self.platform.engine, PostgresEngine):
            await raw(CaseFile, "SELECT id FROM case_file WHERE id = {} FOR UPDATE", case_id)

    async def _locked(self, case_id: int, columns: str) -> dict[str, Any]:
        """``columns`` of the case, read under ``_lock`` in the same statement."""
        lock = " FOR UPDATE" if isinstance(self.platform.engine, PostgresEngine) else ""
        sql = f"SELECT {columns} FROM case_file WHERE id = {{}}{lock}"  # noqa: S608 - ``columns`` is our constant text
        return (await raw(CaseFile, sql, case_id))[0]

    async def _announce(self, public_id: str, events: Iterable[dict[str, Any]]) -> None:
        """Tell this process's status cache and, through the channels, everyone else: live views
        (each event) and the other processes' status caches (``forget``)."""
        self.forget(public_id)
        if self.publish is None:
            return
        try:
            await self.publish(public_id, list(events))
        except Exception as exc:  # live updates are best effort; the timeline is the record
            log.warning("live update not published", extra={"error": repr(exc)})

    def forget(self, public_id: str) -> None:
        """Drop a case's cached status (it changed here or in another process); a read already
        loading it still answers, but its result is not kept."""
        self._status_cache.pop(public_id, None)
        self._status_loading.pop(public_id, None)
        self._view_cache.pop(public_id, None)
        self._changes += 1

    async def _registered_party(self, actor: Actor, uscc: str) -> Capacity | None:
        record = await self.platform.registration.enterprise(uscc)
        return Capacity() if record is not None and record.party(actor.id) is not None else None

    async def _record(self, uscc: str) -> EnterpriseRecord:
        record = await self.platform.registration.enterprise(uscc)
        if record is None:
            raise ProblemError(
                404,
                "enterprise_not_found",
                "登记系统中查无此统一社会信用代码的企业，请核对。 "
                "The registration system has no enterprise with this code.",
                field="uscc",
            )
        return record

    async def _case_row(self, public_id: str) -> dict[str, Any]:
        rows = await raw(CaseFile, CASE_SQL, public_id)
        if not rows:
            raise ProblemError(404, "case_not_found", "找不到该申请。 No such case.")
        return rows[0]

    async def case_for(self, actor: Actor, public_id: str, action: str = "read") -> dict[str, Any]:
        """The case row if ``actor`` may see it, else 404 (no hint that it exists)."""
        return (await self.case_access(actor, public_id, action))[0]

    async def case_access(self, actor: Actor, public_id: str, action: str = "read") -> tuple[dict[str, Any], Access]:
        """The case row and what ``actor`` may do with it (``_authorize``), else 404 or 403."""
        row = await self._case_row(public_id)
        return row, await self._authorize(actor, row, action)

    async def staff_reach_enterprise(self, actor: Actor, uscc: str) -> bool:
        """True if agency staff ``actor`` reach a case of the enterprise ``uscc`` (an item of their
        agency in their regions): what they may read about the enterprise itself."""
        if "agency_staff" not in actor.roles or not actor.agencies:
            return False
        items = await raw(
            CaseItem,
            "SELECT i.system, i.region FROM case_item i JOIN case_file f ON i.case_file = f.id WHERE f.uscc = {}",
            uscc,
        )
        return any(i["system"] in actor.agencies and actor.in_region(i["region"]) for i in items)

    async def capacity(self, actor: Actor, uscc: str) -> Capacity | None:
        """The actor's current capacity for the enterprise (registration record or 授权委托), or None."""
        return await self.capacity_for(actor, uscc) if actor.kind == "person" else None

    async def applicant_to_notify(self, created_by: str, uscc: str) -> str | None:
        """Who hears about a case: the person who started it while they may still act for the
        enterprise, else its legal representative (or operator): a revoked agent hears no more."""
        if await self.capacity(Actor(id=created_by), uscc) is not None:
            return created_by
        record = await self.platform.registration.enterprise(uscc)
        granting = [p for p in (record.parties if record else []) if p.role in ("legal_rep", "operator")]
        return granting[0].person_id if granting else None

    async def may_act_for(self, actor: Actor, uscc: str) -> bool:
        """True if the actor may act for the enterprise as a whole (start or edit its application)."""
        capacity = await self.capacity(actor, uscc)
        return capacity is not None and capacity.whole_case

    async def _authorize(
        self, actor: Actor, row: dict[str, Any], action: str, items: list[dict[str, Any]] | None = None
    ) -> Access:
        """The one access decision of the case context: what ``actor`` may do with the case ``row``
        (``items``: its items' system and region, if read already), or 404 (no hint it exists) / 403.

        - People reach a case through their *current* capacity for its enterprise: the registration
          record or an unrevoked, unexpired 授权委托. Who created the draft does not matter, so a
          revoked or expired mandate ends the agent's access at once (finding 4).
        - A mandate for some items (``items``) covers those items only: the agent reads the case
          narrowed to them and may correct them, but cannot do what binds the whole application
          (``WHOLE_CASE_ACTIONS``: edit the merged draft, upload, sign, pre-check, submit, withdraw,
          download its materials) and cannot start a draft (``may_act_for``) (finding 3).
        - Agency staff reach cases with an item of their agency in their regions, administrators
          every case; staff only read (``APPLICANT_ACTIONS`` are 403), see a view narrowed to what
          their agency needs (``narrow``), only agency staff with such an item may object
          (``STAFF_ACTIONS``) and only administrators re-drive a failed delivery (``ADMIN_ACTIONS``).
          Every staff access is audited.
        """
        if actor.kind == "system":
            return WHOLE_CASE
        capacity = await self.capacity(actor, row["uscc"])
        if capacity is not None:
            if action in ADMIN_ACTIONS:
                raise ProblemError(403, "forbidden", "仅管理员可以执行该操作。 Administrators only.")
            if action in STAFF_ACTIONS:
                raise ProblemError(
                    403, "forbidden", "异议由相关部门工作人员登记。 Objections are recorded by agency staff."
                )
            if not capacity.whole_case and action in WHOLE_CASE_ACTIONS:
                raise ProblemError(
                    403,
                    "mandate_scope",
                    "您的授权委托仅限部分事项，不能办理整件申请的操作。"
                    " Your mandate covers only some items, not the whole application.",
                )
            return WHOLE_CASE if capacity.whole_case else Access(items=frozenset(capacity.items))
        agency_reach = False
        if "agency_staff" in actor.roles and actor.agencies:
            if items is None:
                items = await CaseItem.select(CaseItem.system, CaseItem.region).where(CaseItem.case_file == row["id"])
            agency_reach = any(i["system"] in actor.agencies and actor.in_region(i["region"]) for i in items)
        if not agency_reach and "admin" not in actor.roles:
            raise ProblemError(404, "case_not_found", "找不到该申请。 No such case.")
        if action in APPLICANT_ACTIONS:
            # Staff may look, not act: editing, signing, submitting, withdrawing are the applicant's
            # (tests/security/test_authorization_matrix.py fails if this goes).
            raise ProblemError(
                403, "forbidden", "工作人员不能代替申请人办理该操作。 Staff cannot act for the applicant."
            )
        if action in ADMIN_ACTIONS and "admin" not in actor.roles:
            raise ProblemError(403, "forbidden", "仅管理员可以执行该操作。 Administrators only.")
        if action in STAFF_ACTIONS and not agency_reach:
            # an objection is a department's (an agency with an item in this case); an administrator runs the platform
            raise ProblemError(
                403, "forbidden", "异议由相关部门工作人员登记。 Objections are recorded by agency staff."
            )
        await self._audit(actor, row["public_id"], action)
        return Access(staff=True, agencies=None if "admin" in actor.roles and not agency_reach else actor.agencies)

    async def status(self, actor: Actor, public_id: str) -> CaseStatus:
        """Where a case stands: one query, and a per-process cache that absorbs polling. Every
        change evicts it in every process (``forget``: here directly, elsewhere through the case
        changes channel); ``status_cache_seconds`` bounds what a lost notice can leave stale.
        Concurrent reads of one case share a single query."""
        cached = self._status_cache.get(public_id)
        if cached is None or cached[0] < time.monotonic():
            loading = self._status_loading.get(public_id)
            if loading is None:
                loading = asyncio.ensure_future(self._load_status(public_id))
                self._status_loading[public_id] = loading
                loading.add_done_callback(functools.partial(self._loaded, public_id))
            cached = await asyncio.shield(loading)
        _, head, items, view = cached
        access = await self._authorize(actor, head, "status", items)
        if access.items is not None:  # a mandate for some items: only those
            view = msgspec.structs.replace(view, items=[i for i in view.items if access.covers(i.code)])
        return view

    def _loaded(self, public_id: str, loading: asyncio.Future) -> None:
        if self._status_loading.get(public_id) is not loading:
            return  # forgotten while loading: the case changed, this answer may be older
        del self._status_loading[public_id]
        if self.status_cache_seconds > 0 and not loading.cancelled() and loading.exception() is None:
            if len(self._status_cache) >= STATUS_CACHE_MAX:
                self._status_cache.clear()
            self._status_cache[public_id] = loading.result()

    async def _load_status(self, public_id: str) -> tuple[float, dict[str, Any], list[dict[str, Any]], CaseStatus]:
        rows = await raw(
            CaseFile,
            "SELECT f.id, f.public_id, f.number, f.status, f.updated_at, f.created_by, f.uscc, i.ref, i.code, "
            "i.status AS item_status, i.due_on, i.closed_at, i.system, i.region "
            "FROM case_file f LEFT JOIN case_item i ON i.case_file = f.id WHERE f.public_id = {} ORDER BY i.id",
            public_id,
        )
        if not rows:
            raise ProblemError(404, "case_not_found", "找不到该申请。 No such case.")
        head, items = rows[0], [r for r in rows if r["ref"] is not None]
        view = CaseStatus(
            id=public_id,
            status=head["status"],
            updated_at=head["updated_at"],
            number=head["number"],
            items=[
                ItemStatus(
                    ref=i["ref"],
                    code=i["code"],
                    status=i["item_status"],
                    due_on=i["due_on"],
                    due_estimated=self._due_estimated(i["due_on"]),
                    closed_at=i["closed_at"],
                )
                for i in items
            ],
        )
        return time.monotonic() + self.status_cache_seconds, head, items, view

    async def _audit(self, actor: Actor, public_id: str, action: str) -> None:
        from backend.identity import Principal, audit_access

        principal = Principal(
            subject=actor.id,
            name=actor.name,
            roles=sorted(actor.roles),
            auth_method="oidc",
            agencies=sorted(actor.agencies),
            regions=list(actor.regions),
            hall=actor.hall,
        )
        await audit_access(self.platform, principal, public_id, action)

    # ------------------------------------------------------------------ drafts

    async def create_draft(self, actor: Actor, uscc: str, channel: str = "pwa") -> CaseView:
        """A draft for an enterprise, prefilled from the registration record and e-licence."""
        uscc = validate_uscc(uscc)
        record = await self._record(uscc)
        if not await self.may_act_for(actor, uscc):
            raise ProblemError(
                403,
                "not_authorised_for_enterprise",
                "您不是该企业的法定代表人、投资人、清算组成员或受托经办人。 You may not act for this enterprise.",
                field="uscc",
            )
        from backend.administration import current_catalog_version

        catalog = get_catalog(await current_catalog_version(self.platform))  # the published version; the case keeps it
        now = self.clock.now_ms()
        public_id = uuid.uuid4().hex
        form = self._prefill(record, actor)
        async with self.transaction():
            rows = await CaseFile.insert(
                CaseFile(
                    public_id=public_id,
                    uscc=uscc,
                    enterprise_name=record.name,
                    entity_type=record.entity_type,
                    region=record.region,
                    status=st.DRAFT,
                    channel=channel,
                    catalog_version=catalog.version,
                    answers="{}",
                    form_data=_json(form),
                    created_by=actor.id,
                    created_at=now,
                    updated_at=now,
                    expires_at=now + self.draft_ttl_days * DAY_MS,
                )
            ).returning(CaseFile.id)
            case_id = rows[0]["id"]
            event = await timeline.append(
                case_id,
                st.CASE_CREATED,
                at=now,
                actor=actor.id,
                data={"channel": channel, "catalog_version": catalog.version},
            )
            await self.platform.queue.enqueue(
                EXPIRY_JOB,
                {"case": public_id},
                delay_seconds=(self.draft_ttl_days - self.draft_warning_days) * 86400,
                dedupe_key=f"expiry-warn:{public_id}",
            )
        await self._announce(public_id, [event])
        return await self.view(actor, public_id)

    def _prefill(self, record: EnterpriseRecord, actor: Actor) -> dict[str, Any]:
        legal_rep = next((p for p in record.parties if p.role == "legal_rep"), None)
        me = record.party(actor.id)
        values: dict[str, Any] = {"uscc": record.uscc, "entity_name": record.name, "region": record.region}
        if legal_rep:
            values["legal_rep_name"] = legal_rep.name
            values["legal_rep_id_number"] = legal_rep.id_number
        if me:
            values["contact_phone"] = me.phone
        if record.customs_code:
            values["customs_code"] = record.customs_code
        if record.bank_accounts:
            values["bank_accounts"] = [
                {"bank_name": a.bank_name, "account_number": a.account_no, "account_type": a.kind}
                for a in record.accounts_in_closing_order()
            ]
        if record.seals:
            values["seal_count"] = len(record.seals)
        return values

    async def update_draft(
        self, actor: Actor, public_id: str, *, answers: dict | None, form_data: dict | None, version: int | None
    ) -> CaseView:
        """Save answers and form data; a stale ``version`` is a 409 so nothing is overwritten silently."""
        row = await self.case_for(actor, public_id, "update")
        if row["status"] != st.DRAFT:
            raise ProblemError(
                409,
                "case_not_editable",
                "申请已提交，不能再修改；如需补正请按事项办理。 The case was submitted and can no longer be edited.",
            )
        # sizes are enforced when saved, not only at submission: a draft never holds megabytes
        validate_draft(row["catalog_version"], form_data=form_data, answers=answers)
        # The answer after saving shows the plan, which needs the registration record: look it up
        # first, so that a 503 while the registration system is down means "nothing saved" and the
        # device keeps the edit and sends it again (shared/drafts.js), not "saved, but said failed".
        await self._record(row["uscc"])
        now = self.clock.now_ms()
        async with self.transaction():
            await self._lock(row["id"])
            current = stored(  # locked just above
                await CaseFile.select(CaseFile.version, CaseFile.answers, CaseFile.form_data)
                .where(CaseFile.id == row["id"])
                .first()
            )
            if version is not None and version != current["version"]:
                raise ProblemError(
                    409,
                    "version_conflict",
                    "该申请已在其他设备上修改，请刷新后再保存。 The case changed elsewhere; reload and try again.",
                    field="version",
                )
            new_answers = {**_load(current["answers"], {}), **(answers or {})}
            new_form = {**_load(current["form_data"], {}), **(form_data or {})}
            changes: dict[Any, Any] = {
                CaseFile.answers: _json(new_answers),
                CaseFile.form_data: _json(new_form),
                CaseFile.version: current["version"] + 1,
                CaseFile.updated_at: now,
                CaseFile.expires_at: now + self.draft_ttl_days * DAY_MS,
                CaseFile.expiry_warned_at: None,
            }
            if answers and "route" in answers:
                changes[CaseFile.route] = str(answers["route"])
            if new_answers != _load(current["answers"], {}) or new_form != _load(current["form_data"], {}):
                changes[CaseFile.signing_reference] = ""  # what was signed is no longer what would be submitted
            await CaseFile.update(changes).where(CaseFile.id == row["id"])
            event = await timeline.append(
                row["id"],
                st.CASE_UPDATED,
                at=now,
                actor=actor.id,
                data={"answers": sorted((answers or {}).keys()), "form_fields": sorted((form_data or {}).keys())},
            )
        await self._announce(public_id, [event])
        return await self.view(actor, public_id)

    async def plan_for(self, row: dict[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
        """The case's plan under its own catalog version, or (None, problems) while answers are
        incomplete. Shared between cases in the same situation (``_plan``): read it, never change it."""
        record = await self._record(row["uscc"])
        try:
            facts = tuple(sorted(record.facts().items()))
            return _plan(
                row["catalog_version"],
                row["entity_type"],
                row["region"],
                row["answers"],
                facts,
                self.platform.settings.jurisdiction or None,
            ), []
        except ProblemError as exc:
            errors = [msgspec.structs.asdict(e) for e in exc.errors or []] or [
                {"field": "answers", "code": exc.code, "message": exc.detail}
            ]
            return None, errors

    # ------------------------------------------------------------------ materials

    async def add_material(
        self, actor: Actor, public_id: str, code: str, filename: str, content: bytes
    ) -> MaterialView:
        row = await self.case_for(actor, public_id, "upload")
        if row["status"] not in (st.DRAFT, st.ACTION_REQUIRED):
            raise ProblemError(409, "case_not_editable", "当前状态不能上传材料。 Materials cannot be added now.")
        media_type = check_upload(content)
        plan, _ = await self.plan_for(row)
        if plan is not None and code not in {m.code for m in plan.materials}:
            raise ProblemError(
                422,
                "unknown_material",
                f"本申请不需要材料 {code}。 This case does not need that material.",
                field="code",
            )
        now = self.clock.now_ms()
        digest = hashlib.sha256(content).hexdigest()
        async with self.transaction():
            await self._lock(row["id"])
            rows = await CaseMaterial.insert(
                CaseMaterial(
                    case_file=row["id"],
                    code=code,
                    filename=filename[:200] or "upload",
                    media_type=media_type,
                    size=len(content),
                    sha256=digest,
                    content=content,
                    uploaded_by=actor.id,
                    at=now,
                )
            ).returning(CaseMaterial.id)
            await CaseFile.update({CaseFile.updated_at: now}).where(CaseFile.id == row["id"])
            event = await timeline.append(
                row["id"],
                st.MATERIAL_ADDED,
                at=now,
                actor=actor.id,
                data={"code": code, "sha256": digest, "size": len(content)},
            )
        await self._announce(public_id, [event])
        return MaterialView(
            id=rows[0]["id"],
            code=code,
            filename=filename,
            media_type=media_type,
            size=len(content),
            sha256=digest,
            at=now,
        )

    async def material_content(self, actor: Actor, public_id: str, material_id: int) -> tuple[str, str, bytes]:
        """An uploaded material (part of the whole application)."""
        row = await self.case_for(actor, public_id, "material")
        m = (
            await CaseMaterial.select()
            .where((CaseMaterial.id == material_id) & (CaseMaterial.case_file == row["id"]))
            .first()
        )
        if m is None:
            raise ProblemError(404, "material_not_found", "找不到该材料。 No such material.")
        return m["filename"], m["media_type"], bytes(m["content"])

    async def document_content(self, actor: Actor, public_id: str, document_id: int) -> tuple[str, str, bytes]:
        """A result document of one item (an agent with a mandate for some items: of those items only)."""
        row, access = await self.case_access(actor, public_id, "document")
        d = (
            await CaseDocument.select()
            .where((CaseDocument.id == document_id) & (CaseDocument.case_file == row["id"]))
            .first()
        )
        if d is not None and access.items is not None:
            item = await CaseItem.select(CaseItem.code).where(CaseItem.ref == d["item_ref"]).first()
            if item is None or not access.covers(item["code"]):
                d = None
        if d is None or d["content"] is None:
            raise ProblemError(404, "document_not_found", "找不到该结果文书。 No such document.")
        return d["name"], d["media_type"], bytes(d["content"])

    # ------------------------------------------------------------------ signatures (电子签名)

    #: Who must sign the application, by route, from the registration record's capacities.
    SIGNER_ROLES = {
        "simplified": {"legal_rep", "investor", "partner", "operator", "branch_head"},  # 全体投资人承诺书
        "general": {"legal_rep", "liquidation_head", "liquidator", "operator", "branch_head"},  # 清算组
    }

    async def start_signing(self, actor: Actor, public_id: str):
        """Render the merged application as a PDF and ask every required signer to sign it."""
        from backend.identity import SignerRef, create_signing, render_pdf

        row = await self.case_for(actor, public_id, "sign")
        if row["status"] != st.DRAFT:
            raise ProblemError(409, "case_not_editable", "申请已提交。 The case was already submitted.")
        plan, blockers, missing = await self.requirements(actor, row, gates=False)
        if plan is None or blockers or any(m.code != "material_missing" for m in missing):
            raise ProblemError(
                422,
                "application_not_ready_to_sign",
                "请先完成办理情形和申请表，再发起签署。 Complete the situation and the form before signing.",
            )
        record = await self._record(row["uscc"])
        roles = self.SIGNER_ROLES[plan.route]
        signers = {p.person_id: p.name for p in record.parties if p.role in roles}
        title = f"企业注销登记申请书（{record.name}）"
        # subsetting CJK fonts takes about a second: off the event loop
        document = await asyncio.to_thread(render_pdf, title, self._application_lines(row, plan, record))
        reference = f"{public_id}.{uuid.uuid4().hex[:8]}"
        created = await create_signing(
            self.platform, document, title, [SignerRef(person_id=k, name=v) for k, v in signers.items()], reference
        )
        now = self.clock.now_ms()
        async with self.transaction():
            await self._lock(row["id"])
            await CaseFile.update({CaseFile.signing_reference: reference, CaseFile.updated_at: now}).where(
                CaseFile.id == row["id"]
            )
            event = await timeline.append(
                row["id"],
                st.SIGNING_STARTED,
                at=now,
                actor=actor.id,
                data={"reference": reference, "sha256": created.sha256, "signers": sorted(signers)},
            )
        if self.platform.notify_applicant:
            for person_id in signers:
                if person_id != actor.id:
                    await self.platform.notify_applicant(person_id, "signature_requested", {"case": public_id})
            await self.platform.queue.notify()  # their text messages
        await self._announce(public_id, [event])
        return created

    async def signing(self, actor: Actor, public_id: str):
        from backend.identity import signing_status

        row = await self.case_for(actor, public_id, "signatures")
        return await signing_status(self.platform, row["signing_reference"] or f"{public_id}.unsigned")

    def _application_lines(self, row: dict[str, Any], plan: Any, record: EnterpriseRecord) -> list[str]:
        form = _load(row["form_data"], {})
        lines = [
            f"统一社会信用代码：{record.uscc}",
            f"企业名称：{record.name}",
            f"注销方式：{'简易注销' if plan.route == 'simplified' else '普通注销'}",
            "",
        ]
        for key, schema in plan.form["properties"].items():
            value = form.get(key)
            if isinstance(value, list):
                value = "；".join(
                    ", ".join(str(v) for v in (x.values() if isinstance(x, dict) else [x])) for x in value
                )
            lines.append(f"{schema.get('title', key)}：{'' if value is None else value}")
        lines += ["", "申请办理事项："] + [f"  {i.name.zh}（{i.department.name.zh}）" for i in plan.items]
        lines += ["", "本人（本单位）承诺所填内容真实、合法、有效，并承担相应法律责任。"]
        return lines

    async def _identity_gate(self, row: dict[str, Any], actor: Actor) -> list[Requirement]:
        """Face verification of the person submitting, and every required signature on the current text."""
        from backend.identity import FaceVerificationNeeded, face_verified_at, signing_status

        missing: list[Requirement] = []
        if (
            actor.kind == "person"
            and await face_verified_at(self.platform, actor.id, "submit", row["public_id"]) is None
        ):
            missing.append(
                Requirement(
                    code="face_verification_required",
                    message=bilingual("请完成人脸识别。", "Verify your face first."),
                    field="face_verification",
                    face_verification=FaceVerificationNeeded(purpose="submit", reference=row["public_id"]),
                )
            )
        if not row["signing_reference"]:
            missing.append(
                Requirement(
                    code="signatures_missing",
                    message=bilingual("申请书尚未发起签署。", "The application has not been sent for signing."),
                    field="signatures",
                )
            )
        else:
            status = await signing_status(self.platform, row["signing_reference"])
            if not status.complete:
                missing.append(
                    Requirement(
                        code="signatures_missing",
                        message=bilingual(f"尚待签署：{'、'.join(status.missing)}。", "Signatures are missing."),
                        field="signatures",
                    )
                )
        return missing

    # ------------------------------------------------------------------ readiness and submission

    async def requirements(
        self, actor: Actor, row: dict[str, Any], *, gates: bool = True, materials: list[dict[str, Any]] | None = None
    ) -> tuple[Any, list[Blocker], list[Requirement]]:
        """(plan, blockers, missing requirements) for submitting this draft (``materials``: its
        uploads, if read already)."""
        plan, problems = await self.plan_for(row)
        missing: list[Requirement] = [
            Requirement(code=p["code"], message=p["message"], field=p.get("field")) for p in problems
        ]
        if plan is None:
            return None, [], missing
        blockers = list(plan.blockers)
        try:
            validate_submission(plan.form, _load(row["form_data"], {}))
        except ProblemError as exc:
            missing += [
                Requirement(
                    code=e.code, message=_field_message(plan.form, e.field, e.message), field=f"form_data.{e.field}"
                )
                for e in exc.errors or []
            ]
        if materials is None:
            materials = await raw(CaseMaterial, MATERIALS_SQL, row["id"])
        uploaded = {m["code"] for m in materials}
        for m in plan.materials:
            if not m.waived and not m.physical and not m.online and m.code not in uploaded:
                missing.append(
                    Requirement(
                        code="material_missing",
                        message=bilingual(f"请上传：{m.name.zh}", f"Upload: {m.name.en}"),
                        field=f"materials.{m.code}",
                    )
                )
        if gates:
            for gate in self.gates:
                missing += await gate(row, actor)
        return plan, blockers, missing

    async def precheck(self, actor: Actor, public_id: str) -> Readiness:
        """注销预检: plan blockers, missing requirements and every applicable agency's own blockers."""
        row = await self.case_for(actor, public_id, "precheck")
        plan, blockers, missing = await self.requirements(actor, row)
        checked: list[str] = []
        unreachable: list[str] = []
        if plan is not None:
            from backend.workbench.connector import mode_aware

            async def ask(code: str, agency: Ref) -> None:
                system = agency.code
                connector = mode_aware(self.platform, system)
                try:
                    result = await connector.precheck(row["uscc"], code, row["region"])
                except Exception as exc:
                    log.warning("precheck failed", extra={"system": system, "error": repr(exc)})
                    unreachable.append(system)
                    return
                checked.append(system)
                for reason in result.blockers:
                    # the plan's blockers' shape; an agency's message may be bilingual ("中文 / English")
                    zh, en = split(reason.message)
                    blockers.append(
                        Blocker(
                            code=reason.code,
                            message=Text(zh=zh or reason.code, en=en or reason.code),
                            source="agency",
                            field=reason.field,
                            agency=agency,
                            item=code,
                        )
                    )

            await asyncio.gather(*(ask(i.code, i.system) for i in plan.items))
        return Readiness(
            ready=not blockers and not missing,
            blockers=blockers,
            missing=missing,
            checked_systems=sorted(checked),
            unreachable_systems=sorted(unreachable),
        )

    async def submit(self, actor: Actor, public_id: str, idempotency_key: str) -> CaseView:
        """一次提交: check completeness, number the case, create its items and queue the first ones.

        Everything the answer shows is read or written here (the case, its items, uploads and
        timeline), so the view is built from it rather than read again."""
        if not idempotency_key or len(idempotency_key) > 100:
            raise ProblemError(
                400,
                "idempotency_key_required",
                "提交时需要 Idempotency-Key 请求头（最长100字符）。 An Idempotency-Key header is required.",
                field="Idempotency-Key",
            )
        rows = await raw(
            CaseFile,
            "SELECT f.*, (SELECT k.public_id FROM case_file k WHERE k.submit_key = {}) AS key_case "  # noqa: S608 - constant SQL
            f"FROM ({CASE_SQL}) f",
            idempotency_key,
            public_id,
        )
        if not rows:
            raise ProblemError(404, "case_not_found", "找不到该申请。 No such case.")
        row = rows[0]
        key_case = row.pop("key_case")
        await self._authorize(actor, row, "submit")
        if key_case not in (None, public_id):
            raise ProblemError(
                409,
                "idempotency_key_reused",
                "该 Idempotency-Key 已用于另一申请。 This key was used for another case.",
                field="Idempotency-Key",
            )
        if row["status"] != st.DRAFT:
            return await self.view(actor, public_id)  # a repeated or second submit is harmless
        materials = await raw(CaseMaterial, MATERIALS_SQL, row["id"])
        plan, blockers, missing = await self.requirements(actor, row, materials=materials)
        if blockers:
            raise case_blocked(blockers)
        if missing:
            raise ProblemError(
                422,
                "case_incomplete",
                "申请尚未填写完整。 The application is not complete.",
                errors=[FieldError(field=m.field or "case", code=m.code, message=m.message) for m in missing],
                face_verification=next((m.face_verification for m in missing if m.face_verification), None),
            )
        record = await self._record(row["uscc"])
        now = self.clock.now_ms()
        async with self.transaction():
            locked = await self._locked(row["id"], "status, version")
            if locked["status"] != st.DRAFT:  # a concurrent submit won
                return await self.view(actor, public_id)
            if locked["version"] != row["version"]:
                raise ProblemError(
                    409,
                    "version_conflict",
                    "提交时申请在其他设备上被修改，请核对后重新提交。 "
                    "The case changed while it was being submitted; check it and submit again.",
                    field="version",
                )
            history = await raw(CaseEvent, EVENTS_SQL, row["id"])
            drafts = self._instantiate(public_id, row, plan, record)
            first = [item for item in drafts if not _load(item["depends_on"], [])]
            for item in first:  # inserted queued: as _queue_items, without updating what we are writing
                item.update(status=st.QUEUED, queued_at=now, due_on=self._due_on(now, item["promised_days"]))
            insert_items, items = _items_insert(row["id"], drafts, now)
            # The number comes last: the day's counter row stays locked until this transaction
            # commits, and every submission of the day waits for it: one more statement.
            number = await next_number(now)
            changes = dict(
                status=st.SUBMITTED,
                number=number,
                submit_key=idempotency_key,
                submitted_at=now,
                updated_at=now,
                route=plan.route,
                expires_at=None,
                version=row["version"] + 1,
            )
            submitted = dict(
                type_=st.CASE_SUBMITTED,
                actor=actor.id,
                data={"number": number, "items": [i.code for i in plan.items], "catalog_version": plan.catalog_version},
            )
            last = history[-1] if history else None
            events = await timeline.append_many(
                row["id"],
                [submitted, *self._queued_entries(first, "platform")],
                at=now,
                after=last,
                along=[
                    insert_items,
                    self._send_jobs([{**i, "generation": 1} for i in first]),
                    update_sql("case_file", row["id"], changes),
                ],
            )
            row = row | changes
        await self.platform.queue.notify()
        await self._announce(public_id, events)
        return self._render(row, None, [], items, [], materials, history + timeline.as_rows(row["id"], events, last))

    def _instantiate(
        self, public_id: str, row: dict[str, Any], plan: Any, record: EnterpriseRecord
    ) -> list[dict[str, Any]]:
        """Case items from the plan: one per item; BANK once per account (basic last); SEAL once per seal
        system; plus a NOTICE stage for each statutory period the catalog says blocks a matter."""
        from backend.catalog.engine import context

        catalog = get_catalog(plan.catalog_version)
        ctx = context(catalog.entity_types[plan.entity_type], plan.answers)
        refs_by_code: dict[str, list[str]] = {}
        drafts: list[dict[str, Any]] = []
        blocked_matters: dict[str, str] = {}
        for period in catalog.periods:
            if period.blocks and plan.route in period.routes and (period.when is None or period.when.holds(ctx)):
                ref = f"{public_id}.{NOTICE}"
                drafts.append(
                    dict(
                        code=NOTICE,
                        office=period.code,
                        region=row["region"],
                        promised_days=0,
                        ref=ref,
                        system="platform",
                        _deps=[],
                    )
                )
                blocked_matters.update({matter: ref for matter in period.blocks})
                break
        for p in plan.items:
            extra_deps = [blocked_matters[p.matter]] if p.matter in blocked_matters else []
            base = dict(
                code=p.code,
                office=p.office.code if p.office else "",
                region=row["region"],
                promised_days=p.promised_days,
                _extra=extra_deps,
            )
            if p.code == "BANK" and record.bank_accounts:
                accounts = record.accounts_in_closing_order()
                for n, account in enumerate(accounts, start=1):
                    ref = f"{public_id}.BANK.{n}"
                    drafts.append(
                        dict(
                            base,
                            ref=ref,
                            system=p.system.code,
                            account=_json(msgspec.to_builtins(account)),
                            _deps=list(p.depends_on),
                            _basic=account.kind == "basic",
                        )
                    )
                    refs_by_code.setdefault(p.code, []).append(ref)
                continue
            systems = [p.system.code]
            if p.code == "SEAL":
                on_file = [
                    s
                    for s in [p.system.code, *(x.code for x in p.also_systems)]
                    if any(seal.system == s for seal in record.seals)
                ]
                systems = on_file or systems
            for n, system in enumerate(systems, start=1):
                ref = f"{public_id}.{p.code}" + (f".{n}" if len(systems) > 1 else "")
                extra = {}
                if p.code == "SEAL":  # which seals this system closes, so people tell the items apart
                    seals = [{"seal_no": x.seal_no, "kind": x.kind} for x in record.seals if x.system == system]
                    extra = {"account": _json({"seals": seals})} if seals else {}
                drafts.append(dict(base, ref=ref, system=system, _deps=list(p.depends_on), **extra))
                refs_by_code.setdefault(p.code, []).append(ref)
        out = []
        other_bank = [d["ref"] for d in drafts if d["code"] == "BANK" and not d.get("_basic")]
        for d in drafts:
            deps = [ref for code in d.pop("_deps") for ref in refs_by_code.get(code, [])] + d.pop("_extra", [])
            if d.pop("_basic", False):
                deps += other_bank  # 基本存款账户最后注销
            d["depends_on"] = _json(deps)
            d["status"] = st.WAITING
            out.append(d)
        return out

    def _due_estimated(self, due_on: str, queued_at: int | None = None) -> bool:
        """Whether a due date counts days of a year whose holidays are computed, not official."""
        if not due_on:
            return False
        start = cst_date(queued_at) if queued_at else None
        return self.calendar.relies_on_estimate(date.fromisoformat(due_on), start)

    def _due_on(self, now: int, promised_days: int) -> str:
        return self.calendar.add(cst_date(now), promised_days).isoformat() if promised_days else ""

    async def _queue_item(
        self, case_id: int, ref: str, now: int, *, actor: str = "platform", after: dict[str, Any] | None = None
    ) -> dict[str, Any]:
        """Move one item to 待推送 with its send job (``_queue_items``)."""
        item = stored(  # an item of the case locked by the caller
            await CaseItem.select(CaseItem.ref, CaseItem.generation, CaseItem.promised_days, CaseItem.system)
            .where(CaseItem.ref == ref)
            .first()
        )
        return (await self._queue_items(case_id, [item], now, actor=actor, after=after))[0]

    async def _queue_items(
        self,
        case_id: int,
        items: list[dict[str, Any]],
        now: int,
        *,
        actor: str = "platform",
        after: dict[str, Any] | None = None,
    ) -> list[dict[str, Any]]:
        """Move items (their ref, generation, promised days and system) to 待推送 and write their send
        jobs in the same transaction (the outbox); ``after``: the case's last event, when read already.
        On PostgreSQL one statement: the items (per due date) and the jobs go with the events."""
        due = {i["ref"]: self._due_on(now, i["promised_days"]) for i in items}
        along = []
        for due_on in set(due.values()):
            refs = [ref for ref, d in due.items() if d == due_on]
            along.append(
                (
                    "UPDATE case_item SET status = {}, queued_at = {}, due_on = {}, updated_at = {} "  # noqa: S608 - placeholders only
                    f"WHERE ref IN ({', '.join(['{}'] * len(refs))})",
                    [st.QUEUED, now, due_on, now, *refs],
                )
            )
        along.append(self._send_jobs(items))
        return await timeline.append_many(
            case_id,
            self._queued_entries([{**i, "due_on": due[i["ref"]]} for i in items], actor),
            at=now,
            after=after,
            along=along,
        )

    def _send_jobs(self, items: list[dict[str, Any]]) -> tuple[str, list[Any]]:
        """The statement writing the send jobs of items just queued (their ref and generation; at
        least one), to run in the same transaction: the outbox."""
        return self.platform.queue.enqueue_sql(
            SEND_JOB,
            [({"ref": i["ref"], "generation": i["generation"]}, f"send:{i['ref']}:{i['generation']}") for i in items],
            max_attempts=SEND_ATTEMPTS,
        )

    @staticmethod
    def _queued_entries(items: list[dict[str, Any]], actor: str) -> list[dict[str, Any]]:
        """Timeline entries (``timeline.append_many``) for items just queued (their ref, system and due date)."""
        return [
            dict(type_=st.ITEM_QUEUED, item_ref=i["ref"], actor=actor, system=i["system"], data={"due_on": i["due_on"]})
            for i in items
        ]

    # ------------------------------------------------------------------ withdrawal and corrections

    async def withdraw(self, actor: Actor, public_id: str, reason: str = "") -> CaseView:
        """撤回: allowed until an agency has accepted any item."""
        row = await self.case_for(actor, public_id, "withdraw")
        now = self.clock.now_ms()
        async with self.transaction():
            await self._lock(row["id"])
            items = await CaseItem.select(CaseItem.ref, CaseItem.status, CaseItem.system).where(
                CaseItem.case_file == row["id"]
            )
            status = stored(await CaseFile.select(CaseFile.status).where(CaseFile.id == row["id"]).first())["status"]
            if status in (st.CASE_WITHDRAWN, st.EXPIRED):
                return await self.view(actor, public_id)
            started = [i for i in items if i["status"] not in (st.WAITING, st.QUEUED, st.SENT, st.DISPATCH_FAILED)]
            if started or status in (st.CASE_COMPLETED, st.CASE_REFUSED):
                raise ProblemError(
                    409,
                    "withdrawal_not_allowed",
                    "已有部门受理，不能整体撤回；请联系受理部门。 An agency has already accepted an item.",
                )
            events = []
            for i in items:
                await CaseItem.update(
                    {CaseItem.status: st.WITHDRAWN, CaseItem.closed_at: now, CaseItem.updated_at: now}
                ).where(CaseItem.ref == i["ref"])
                events.append(
                    await timeline.append(
                        row["id"], st.ITEM_WITHDRAWN, at=now, item_ref=i["ref"], actor=actor.id, system=i["system"]
                    )
                )
            await CaseFile.update(
                {
                    CaseFile.status: st.CASE_WITHDRAWN,
                    CaseFile.closed_at: now,
                    CaseFile.updated_at: now,
                    CaseFile.expires_at: None,
                }
            ).where(CaseFile.id == row["id"])
            events.append(
                await timeline.append(row["id"], st.CASE_WITHDRAWN_EVENT, at=now, actor=actor.id, message=reason[:500])
            )
        await self._announce(public_id, events)
        return await self.view(actor, public_id)

    async def correct(
        self, actor: Actor, public_id: str, code: str, form_data: dict[str, Any], message: str = ""
    ) -> CaseView:
        """补正: update the fields an agency asked for and send that one item again; the others are untouched."""
        row, access = await self.case_access(actor, public_id, "correct")
        if not access.covers(code):
            raise ProblemError(
                403,
                "mandate_scope",
                "您的授权委托不包括该事项。 Your mandate does not cover this item.",
                field="code",
            )
        plan = None
        if form_data:
            validate_draft(row["catalog_version"], form_data=form_data, answers=None)
            plan, _ = await self.plan_for(row)
        now = self.clock.now_ms()
        async with self.transaction():
            await self._lock(row["id"])
            item = (
                await CaseItem.select()
                .where((CaseItem.case_file == row["id"]) & (CaseItem.code == code) & (CaseItem.status == st.CORRECTION))
                .first()
            )
            if item is None:
                raise ProblemError(
                    409,
                    "no_correction_requested",
                    "该事项没有待补正的内容。 This item is not awaiting corrections.",
                    field="code",
                )
            if access.items is not None:
                # an agent for this item changes only what its agency asked for, never the rest of the form
                asked = {c.get("name") for c in _load(item["corrections"], []) if c.get("kind") == "field"}
                beyond = sorted(set(form_data) - asked)
                if beyond:
                    raise ProblemError(
                        403,
                        "mandate_scope",
                        "您的授权委托只能补正该部门要求的内容。"
                        " Your mandate allows only the corrections this agency asked for.",
                        field=f"form_data.{beyond[0]}",
                    )
            if form_data:
                current = _load(
                    stored(await CaseFile.select(CaseFile.form_data).where(CaseFile.id == row["id"]).first())[
                        "form_data"
                    ],
                    {},
                )
                if plan is not None:  # corrected data goes to the agency at once: checked as a submission is
                    validate_submission(plan.form, {**current, **form_data})
                await CaseFile.update(
                    {CaseFile.form_data: _json({**current, **form_data}), CaseFile.updated_at: now}
                ).where(CaseFile.id == row["id"])
            await CaseItem.update({CaseItem.generation: item["generation"] + 1, CaseItem.corrections: "[]"}).where(
                CaseItem.id == item["id"]
            )
            events = [
                await timeline.append(
                    row["id"],
                    st.ITEM_CORRECTED,
                    at=now,
                    item_ref=item["ref"],
                    actor=actor.id,
                    system=item["system"],
                    message=message[:500],
                    data={"fields": sorted(form_data)},
                )
            ]
            events.append(await self._queue_item(row["id"], item["ref"], now, actor=actor.id))
            await self._refresh_case_status(row["id"], now, events)
        await self.platform.queue.notify()
        await self._announce(public_id, events)
        return await self.view(actor, public_id)

    async def redrive(self, actor: Actor, ref: str) -> None:
        """Administrators: send an item whose delivery failed again (same idempotency key: safe); decided
        by the case's access rule and audited like every staff action."""
        now = self.clock.now_ms()
        item = await CaseItem.select(CaseItem.case_file, CaseItem.status).where(CaseItem.ref == ref).first()
        if item is not None:
            row = (await raw(CaseFile, "SELECT * FROM case_file WHERE id = {}", item["case_file"]))[0]
            await self._authorize(actor, row, "redrive")
        if item is None or item["status"] != st.DISPATCH_FAILED:
            raise ProblemError(
                409, "not_dispatch_failed", "该事项不处于推送失败状态。 The item's delivery has not failed."
            )
        async with self.transaction():
            await self._lock(item["case_file"])
            # the dead send job goes round again (its dedupe key would stop a new one being written)
            generation = stored(await CaseItem.select(CaseItem.generation).where(CaseItem.ref == ref).first())[
                "generation"
            ]
            await Job.update({Job.status: "pending", Job.attempts: 0, Job.run_at: now, Job.last_error: ""}).where(
                (Job.dedupe_key == f"send:{ref}:{generation}") & (Job.status == "dead")
            )
            events = [await timeline.append(item["case_file"], st.ITEM_REDRIVEN, at=now, item_ref=ref, actor=actor.id)]
            events.append(await self._queue_item(item["case_file"], ref, now, actor=actor.id))
        await self.platform.queue.notify()
        case = stored(await CaseFile.select(CaseFile.public_id).where(CaseFile.id == item["case_file"]).first())  # FK
        await self._announce(case["public_id"], events)

    async def _refresh_case_status(
        self,
        case_id: int,
        now: int,
        events: list[dict[str, Any]],
        *,
        statuses: list[str] | None = None,
        current: str | None = None,
    ) -> None:
        """Derive the case's status from its items' (``statuses`` and the ``current`` case status when known)."""
        if statuses is None:
            statuses = [
                r["status"] for r in await CaseItem.select(CaseItem.status).where(CaseItem.case_file == case_id)
            ]
        new = st.case_status(statuses)
        if current is None:
            current = stored(await CaseFile.select(CaseFile.status).where(CaseFile.id == case_id).first())["status"]
        if current == new:
            return
        closed = now if new in (st.CASE_COMPLETED, st.CASE_REFUSED, st.CASE_WITHDRAWN) else None
        sql, values = update_sql("case_file", case_id, {"status": new, "updated_at": now, "closed_at": closed})
        await raw(CaseFile, sql, *values)
        if closed:
            events.append(
                await timeline.append(
                    case_id, st.CASE_CLOSED, at=now, data={"status": new}, after=events[-1] if events else None
                )
            )

    # ------------------------------------------------------------------ timed stages (公示期 / 异议期)

    def _period(self, catalog_version: str, code: str):
        return next(p for p in get_catalog(catalog_version).periods if p.code == code)

    async def start_notice(self, item: dict[str, Any], case: dict[str, Any]) -> None:
        """Open the publicity / objection window; it ends by itself unless someone objects."""
        now = self.clock.now_ms()
        period = self._period(case["catalog_version"], item["office"])
        start = cst_date(now)
        end = self.calendar.add(start, period.days) if period.unit == "working" else start + timedelta(days=period.days)
        ends_ms = now + (end - start).days * DAY_MS
        async with self.transaction():
            await self._lock(case["id"])
            moved = (
                await CaseItem.update(
                    {
                        CaseItem.status: st.IN_PROGRESS,
                        CaseItem.sent_at: now,
                        CaseItem.accepted_at: now,
                        CaseItem.due_on: end.isoformat(),
                        CaseItem.updated_at: now,
                        CaseItem.result: _json({"ends_at": ends_ms}),
                    }
                )
                .where((CaseItem.id == item["id"]) & (CaseItem.status == st.QUEUED))
                .returning(CaseItem.id)
            )
            if not moved:
                return
            events = [
                await timeline.append(
                    case["id"],
                    st.NOTICE_STARTED,
                    at=now,
                    item_ref=item["ref"],
                    data={"period": period.code, "days": period.days, "ends_on": end.isoformat()},
                )
            ]
            await self.platform.queue.enqueue(
                NOTICE_END_JOB,
                {"ref": item["ref"]},
                delay_seconds=(ends_ms - now) / 1000,
                dedupe_key=f"notice-end:{item['ref']}",
            )
        await self._announce(case["public_id"], events)

    async def end_notice(self, ref: str, *, early: bool = False) -> bool:
        """Close the window without objection (at its end; ``early`` in the test environment only)."""
        item = await CaseItem.select().where(CaseItem.ref == ref).first()
        if item is None or item["status"] != st.IN_PROGRESS:
            return False
        now = self.clock.now_ms()
        ends_at = _load(item["result"], {}).get("ends_at", 0)
        if now < ends_at and not early:
            from backend.jobs import RetryLater

            raise RetryLater("publicity period still running", delay=(ends_at - now) / 1000)
        case = stored(await CaseFile.select(CaseFile.public_id).where(CaseFile.id == item["case_file"]).first())  # FK
        async with self.transaction():
            await self._lock(item["case_file"])
            moved = (
                await CaseItem.update(
                    {CaseItem.status: st.COMPLETED, CaseItem.closed_at: now, CaseItem.updated_at: now}
                )
                .where((CaseItem.id == item["id"]) & (CaseItem.status == st.IN_PROGRESS))
                .returning(CaseItem.id)
            )
            if not moved:
                return False
            events = [
                await timeline.append(item["case_file"], st.NOTICE_ENDED, at=now, item_ref=ref, data={"early": early})
            ]
            await self.platform.dispatcher._release_dependents(item["case_file"], now, events)
            await self._refresh_case_status(item["case_file"], now, events)
        await self.platform.queue.notify()
        await self._announce(case["public_id"], events)
        return True

    async def object(self, actor: Actor, public_id: str, message: str) -> CaseView:
        """异议: a department with an item in this case, through its staff in their regions, objects
        during the window; the simplified route ends. The answer is the objector's own view."""
        row, _ = await self.case_access(actor, public_id, "object")  # 404 / 403 and the staff audit
        now = self.clock.now_ms()
        async with self.transaction():
            await self._lock(row["id"])
            item = await CaseItem.select().where((CaseItem.case_file == row["id"]) & (CaseItem.code == NOTICE)).first()
            if item is None or item["status"] != st.IN_PROGRESS:
                raise ProblemError(
                    409, "no_open_notice", "该申请不在公示或异议期内。 The case has no open publicity period."
                )
            reasons = [{"code": "objection", "message": message}]
            await CaseItem.update(
                {
                    CaseItem.status: st.REJECTED,
                    CaseItem.reasons: _json(reasons),
                    CaseItem.closed_at: now,
                    CaseItem.updated_at: now,
                    CaseItem.message: message,
                }
            ).where(CaseItem.id == item["id"])
            events = [
                await timeline.append(
                    row["id"], st.NOTICE_OBJECTION, at=now, item_ref=item["ref"], actor=actor.id, message=message[:500]
                )
            ]
            await self.platform.dispatcher._stop_dependents(row["id"], item["ref"], now, events)
            await self._refresh_case_status(row["id"], now, events)
        await self._announce(public_id, events)
        return await self.view(actor, public_id)

    # ------------------------------------------------------------------ draft expiry

    async def expire_drafts_job(self, public_id: str) -> None:
        """Warn before a draft expires, then expire it (re-scheduled when the draft was saved meanwhile)."""
        row = await CaseFile.select().where(CaseFile.public_id == public_id).first()
        if row is None or row["status"] != st.DRAFT or row["expires_at"] is None:
            return
        now = self.clock.now_ms()
        warn_at = row["expires_at"] - self.draft_warning_days * DAY_MS
        async with self.transaction():
            await self._lock(row["id"])
            if now < warn_at:
                await self.platform.queue.enqueue(EXPIRY_JOB, {"case": public_id}, delay_seconds=(warn_at - now) / 1000)
                return
            if now < row["expires_at"]:
                if row["expiry_warned_at"] is None:
                    await CaseFile.update({CaseFile.expiry_warned_at: now}).where(CaseFile.id == row["id"])
                    event = await timeline.append(
                        row["id"], st.CASE_EXPIRY_WARNED, at=now, data={"expires_at": row["expires_at"]}
                    )
                    await self.platform.queue.enqueue(
                        EXPIRY_JOB, {"case": public_id}, delay_seconds=(row["expires_at"] - now) / 1000
                    )
                    events = [event]
                else:
                    await self.platform.queue.enqueue(
                        EXPIRY_JOB, {"case": public_id}, delay_seconds=(row["expires_at"] - now) / 1000
                    )
                    return
            else:
                await CaseFile.update(
                    {CaseFile.status: st.EXPIRED, CaseFile.updated_at: now, CaseFile.closed_at: now}
                ).where(CaseFile.id == row["id"])
                events = [await timeline.append(row["id"], st.CASE_EXPIRED, at=now)]
        await self._announce(public_id, events)
        if events and events[0]["type"] == st.CASE_EXPIRY_WARNED and self.platform.notify_applicant:
            person = await self.applicant_to_notify(row["created_by"], row["uscc"])
            if person:
                await self.platform.notify_applicant(
                    person, "draft_expiring", {"case": public_id, "expires_at": row["expires_at"]}
                )
                await self.platform.queue.notify()  # its text message

    # ------------------------------------------------------------------ reading

    async def find_by_number(self, actor: Actor, text: str) -> list[CaseSummary]:
        """The case with this number if the actor may see it (any enterprise they act for), else nothing."""
        from backend.cases.numbering import parse_number

        number = parse_number(text)
        if number is None:
            raise ProblemError(
                422,
                "invalid_case_number",
                "申请编号有误，请核对后重新输入。 That case number is not valid.",
                field="number",
            )
        row = await CaseFile.select(CaseFile.public_id).where(CaseFile.number == number).first()
        if row is None:
            return []
        try:
            await self.case_for(actor, row["public_id"])
        except ProblemError:
            return []
        return await self._summaries(CaseFile.number == number)

    async def list_mine(self, actor: Actor) -> list[CaseSummary]:
        """The cases the actor started, of enterprises they may still act for (a revoked or expired
        mandate takes its cases off the list, as it ends access to them)."""
        summaries = await self._summaries(CaseFile.created_by == actor.id)
        capacities = {uscc: await self.capacity(actor, uscc) for uscc in {c.uscc for c in summaries}}
        return [c for c in summaries if capacities[c.uscc] is not None]

    async def _summaries(self, where) -> list[CaseSummary]:
        rows = await CaseFile.select().where(where).order_by(CaseFile.updated_at, ascending=False).limit(200)
        ids = [r["id"] for r in rows]
        counts: dict[int, list[int]] = {i: [0, 0] for i in ids}
        if ids:
            for item in await CaseItem.select(CaseItem.case_file, CaseItem.status).where(CaseItem.case_file.is_in(ids)):
                counts[item["case_file"]][1] += 1
                if item["status"] == st.COMPLETED:
                    counts[item["case_file"]][0] += 1
        return [
            CaseSummary(
                id=r["public_id"],
                status=r["status"],
                status_label=Label(*st.CASE_LABELS[r["status"]]),
                uscc=r["uscc"],
                enterprise_name=r["enterprise_name"],
                updated_at=r["updated_at"],
                number=r["number"],
                items_done=counts[r["id"]][0],
                items_total=counts[r["id"]][1],
            )
            for r in rows
        ]

    async def view(self, actor: Actor, public_id: str, *, with_plan: bool = True, action: str = "read") -> CaseView:
        """The case as ``actor`` may see it (``_authorize``; ``action``: what the reading is for, audited
        for staff). A submitted case's whole view is kept for ``status_cache_seconds`` (the status
        read's bound) and narrowed for each reader (``narrow``); drafts are read afresh."""
        cached = self._view_cache.get(public_id)
        if cached is not None and cached[0] >= time.monotonic():
            access = await self._authorize(actor, cached[1], action)
            return self.narrow(actor, access, cached[2])
        _, view, access = await self._fresh_view(actor, public_id, with_plan, action)
        return self.narrow(actor, access, view)

    async def view_json(
        self, actor: Actor, public_id: str, locale: str, readable: Callable[[CaseView], CaseView]
    ) -> bytes:
        """The case view as JSON in ``locale`` (``readable`` narrows its messages): a submitted case's
        is encoded once per language while its view is kept, as a 10-item case is ~30 KB."""
        cached = self._view_cache.get(public_id)
        if cached is not None and cached[0] >= time.monotonic():
            access = await self._authorize(actor, cached[1], "read")
        else:
            cached, view, access = await self._fresh_view(actor, public_id, True, "read")
            if cached is None:  # a draft, or read while it changed: not kept
                return msgspec.json.encode(readable(self.narrow(actor, access, view)))
        if access.items is not None or (access.staff and access.agencies is not None):
            # a narrowed view (a partial mandate, agency staff) is this reader's own: encoded for them
            return msgspec.json.encode(readable(self.narrow(actor, access, cached[2])))
        encoded = cached[3]
        if locale not in encoded:
            encoded[locale] = msgspec.json.encode(readable(cached[2]))
        return encoded[locale]

    async def _fresh_view(
        self, actor: Actor, public_id: str, with_plan: bool, action: str
    ) -> tuple[Any, CaseView, Access]:
        """(cache entry or None, the whole view, what ``actor`` may see of it) read from the database;
        the entry is kept for a submitted case."""
        changes = self._changes
        row, access = await self.case_access(actor, public_id, action)
        plan, problems = (await self.plan_for(row)) if (with_plan and row["status"] == st.DRAFT) else (None, [])
        reads = [ITEMS_SQL, DOCUMENTS_SQL, MATERIALS_SQL, EVENTS_SQL]
        items, docs, materials, events = [await raw(CaseFile, sql, row["id"]) for sql in reads]
        typical = await self.typical.table(self.clock.now_ms()) if row["status"] != st.DRAFT else {}
        view = self._render(row, plan, problems, items, docs, materials, events, typical)
        if row["status"] != st.DRAFT and self.status_cache_seconds > 0 and changes == self._changes:
            if len(self._view_cache) >= VIEW_CACHE_MAX:
                self._view_cache.clear()
            entry: tuple[float, dict[str, Any], CaseView, dict[str, bytes]] = (
                time.monotonic() + self.status_cache_seconds,
                row,
                view,
                {},
            )
            self._view_cache[public_id] = entry
            return entry, view, access
        return None, view, access

    async def _completed_items(self, since_ms: int) -> list[dict[str, Any]]:
        """Completed items since ``since_ms``, for the typical durations (one aggregate read)."""
        return await raw(
            CaseItem,
            "SELECT code, region, sent_at, closed_at FROM case_item WHERE status = {} AND closed_at >= {}",
            st.COMPLETED,
            since_ms,
        )

    @staticmethod
    def narrow(actor: Actor, access: Access, view: CaseView) -> CaseView:
        """The part of ``view`` ``access`` shows: an agent with a mandate for some items sees those
        items, their documents and timeline entries, and nothing of the merged application (answers,
        form, materials); agency staff see every item's status and the results the case has shared
        (as their workbench does), but only the form fields their own items receive and only their own
        items' bank accounts."""
        if access.items is not None:
            items = [i for i in view.items if access.covers(i.code)]
            refs = {i.ref for i in items}
            return msgspec.structs.replace(
                view,
                answers={},
                form_data={},
                plan=None,
                plan_problems=[],
                materials=[],
                items=items,
                timeline=[e for e in view.timeline if e.item_ref in refs],
            )
        if not access.staff or access.agencies is None:
            return view
        from backend.cases.dispatch import _item_maps

        own = [i for i in view.items if i.system in access.agencies and actor.in_region(view.region)]
        fields = {key for i in own for key in _item_maps(view.catalog_version, i.code)}
        items = [i if i in own else msgspec.structs.replace(i, account=None) for i in view.items]
        form = {k: v for k, v in view.form_data.items() if k in fields}
        return msgspec.structs.replace(view, form_data=form, items=items)

    def _render(
        self,
        row: dict[str, Any],
        plan: Any,
        problems: list[dict[str, Any]],
        items: list[dict[str, Any]],
        docs: list[dict[str, Any]],
        materials: list[dict[str, Any]],
        events: list[dict[str, Any]],
        typical: dict[tuple[str, str], Typical] | None = None,
    ) -> CaseView:
        """The case view from its rows (``*_SQL``; ``events``: every column, in order)."""
        public_id = row["public_id"]
        catalog = get_catalog(row["catalog_version"])
        days, promise_text = promise(catalog, items) if row["status"] != st.DRAFT else (0, None)
        docs_by_item: dict[str, list[dict[str, Any]]] = {}
        for d in docs:
            docs_by_item.setdefault(d["item_ref"], []).append(
                {
                    "id": d["id"],
                    "name": d["name"],
                    "media_type": d["media_type"],
                    "sha256": d["sha256"],
                    "href": f"/api/v1/cases/{public_id}/documents/{d['id']}",
                }
            )
        intact, _ = timeline.verify_rows(row["id"], events)
        return CaseView(
            id=row["public_id"],
            status=row["status"],
            status_label=Label(*st.CASE_LABELS[row["status"]]),
            uscc=row["uscc"],
            enterprise_name=row["enterprise_name"],
            entity_type=row["entity_type"],
            region=row["region"],
            route=row["route"],
            channel=row["channel"],
            catalog_version=row["catalog_version"],
            version=row["version"],
            answers=_load(row["answers"], {}),
            form_data=_load(row["form_data"], {}),
            created_at=row["created_at"],
            updated_at=row["updated_at"],
            number=row["number"],
            submitted_at=row["submitted_at"],
            closed_at=row["closed_at"],
            expires_at=row["expires_at"],
            plan=msgspec.to_builtins(plan) if plan is not None else None,
            plan_problems=problems,
            items=[
                self._item_view(
                    catalog,
                    i,
                    docs_by_item.get(i["ref"], []),
                    (typical or {}).get((i["code"], prefecture(i["region"]))),
                )
                for i in items
            ],
            promised_days=days,
            promised_text=promise_text,
            materials=[MaterialView(**m) for m in materials],
            timeline=[
                EventView(
                    seq=e["seq"],
                    type=e["type"],
                    at=e["at"],
                    actor=e["actor"],
                    system=e["system"],
                    item_ref=e["item_ref"],
                    message=e["message"],
                    data=_load(e["data"], {}),
                    hash=e["hash"],
                )
                for e in events
            ],
            timeline_intact=intact,
        )

    def _item_view(
        self, catalog, i: dict[str, Any], documents: list[dict[str, Any]], typical: Typical | None = None
    ) -> ItemView:
        item = catalog.items.get(i["code"])
        period = next((p for p in catalog.periods if p.code == i["office"]), None) if i["code"] == NOTICE else None
        text = item.name if item else period.name if period else None
        name = Label(text.zh, text.en) if text else Label(i["code"], i["code"])
        closes = _load(i["account"], None)
        return ItemView(
            ref=i["ref"],
            code=i["code"],
            name=name,
            system=i["system"],
            status=i["status"],
            status_label=Label(*st.ITEM_LABELS[i["status"]]),
            depends_on=_load(i["depends_on"], []),
            promised_days=i["promised_days"],
            office=i["office"],
            due_on=i["due_on"],
            due_estimated=self._due_estimated(i["due_on"], i["queued_at"]),
            reference=i["reference"],
            account=closes if closes and "account_no" in closes else None,
            subject=subjects.subject(catalog, i["code"], i["system"], closes),
            office_name=subjects.office_name(catalog, i["office"]) if i["code"] != NOTICE else None,
            system_name=subjects.system_name(catalog, i["system"]),
            typical=typical,
            message=i["message"],
            reasons=_load(i["reasons"], []),
            corrections=_load(i["corrections"], []),
            result=_load(i["result"], {}),
            documents=documents,
            queued_at=i["queued_at"],
            sent_at=i["sent_at"],
            accepted_at=i["accepted_at"],
            closed_at=i["closed_at"],
        )
