"""Reading cases: the case view, summaries, and what a partial mandate or staff may see.

Functions of ``CaseService`` (``backend.cases.service``), each taking the service as ``self``;
the class binds them as its methods."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import msgspec

from backend.cases import states as st
from backend.cases import subjects, timeline
from backend.cases.common import (
    DOCUMENTS_SQL,
    EVENTS_SQL,
    ITEMS_SQL,
    MATERIALS_SQL,
    NOTICE,
    VIEW_CACHE_MAX,
    Access,
    _load,
    event_label,
    promise,
)
from backend.cases.schemas import (
    CaseSummary,
    CaseView,
    EventView,
    ItemView,
    Label,
    MaterialView,
)
from backend.cases.tables import CaseFile, CaseItem
from backend.cases.typical import Typical, prefecture
from backend.catalog import get_catalog
from backend.db import raw
from backend.identity.actor import Actor
from backend.lib.problems import ProblemError

if TYPE_CHECKING:
    from backend.cases.service import CaseService

log = logging.getLogger("backend.cases")


async def find_by_number(self: CaseService, actor: Actor, text: str) -> list[CaseSummary]:
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


async def list_mine(self: CaseService, actor: Actor) -> list[CaseSummary]:
    """The cases the actor started, of enterprises they may still act for (a revoked or expired
    mandate takes its cases off the list, as it ends access to them)."""
    summaries = await self._summaries(CaseFile.created_by == actor.id)
    capacities = {uscc: await self.capacity(actor, uscc) for uscc in {c.uscc for c in summaries}}
    return [c for c in summaries if capacities[c.uscc] is not None]


async def _summaries(self: CaseService, where) -> list[CaseSummary]:
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


async def view(
    self: CaseService, actor: Actor, public_id: str, *, with_plan: bool = True, action: str = "read"
) -> CaseView:
    """The case as ``actor`` may see it (``_authorize``; ``action``: what the reading is for, audited
    for staff). A submitted case's whole view is kept for ``status_cache_seconds`` (the status
    read's bound) and narrowed for each reader (``narrow``); drafts are read afresh."""
    cached = self._kept_view(public_id)
    if cached is not None:
        access = await self._authorize(actor, cached[1], action)
        return self.narrow(actor, access, cached[2])
    _, view, access = await self._fresh_view(actor, public_id, with_plan, action)
    return self.narrow(actor, access, view)


async def view_json(
    self: CaseService, actor: Actor, public_id: str, locale: str, readable: Callable[[CaseView], CaseView]
) -> bytes:
    """The case view as JSON in ``locale`` (``readable`` narrows its messages): a submitted case's
    is encoded once per language while its view is kept, as a 10-item case is ~30 KB."""
    cached = self._kept_view(public_id)
    if cached is not None:
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
    self: CaseService, actor: Actor, public_id: str, with_plan: bool, action: str
) -> tuple[Any, CaseView, Access]:
    """(cache entry or None, the whole view, what ``actor`` may see of it) read from the database;
    the entry is kept for a submitted case."""
    row, access = await self.case_access(actor, public_id, action)
    entry, view = await self._load_view(row, with_plan)
    return entry, view, access


def _kept_view(self: CaseService, public_id: str) -> Any:
    """The kept view of a case while it lasts (else None). Past half its lifetime one background
    read renews it: without that, a busy case's readers all missed together when it lapsed and each
    waited for its own rebuild, six database round trips behind the busy event loop (the p99 of
    the case-view read was 150 ms at 50 connections, 27 ms with nothing lapsing)."""
    cached = self._view_cache.get(public_id)
    now = time.monotonic()
    if cached is None or cached[0] < now:
        return None
    if cached[0] - now < self.status_cache_seconds / 2 and public_id not in self._view_refreshing:
        task = asyncio.ensure_future(self._renew_view(public_id))
        self._view_refreshing[public_id] = task
        task.add_done_callback(lambda _: self._view_refreshing.pop(public_id, None))
    return cached


async def _renew_view(self: CaseService, public_id: str) -> None:
    try:
        await self._load_view(await self._case_row(public_id), True)
    except Exception:  # the database away for a moment: the kept view lapses and a reader reads it afresh
        log.warning("case view not renewed", exc_info=True)


async def _load_view(self: CaseService, row: dict[str, Any], with_plan: bool) -> tuple[Any, CaseView]:
    """(cache entry or None, the whole view) of the case ``row`` from the database, kept for a submitted
    case unless the case changed meanwhile."""
    public_id = row["public_id"]
    changes = self._changes
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
        return entry, view
    return None, view


async def _completed_items(self: CaseService, since_ms: int) -> list[dict[str, Any]]:
    """Completed items since ``since_ms``, for the typical durations (one aggregate read)."""
    return await raw(
        CaseItem,
        "SELECT code, region, sent_at, closed_at FROM case_item WHERE status = {} AND closed_at >= {}",
        st.COMPLETED,
        since_ms,
    )


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
    self: CaseService,
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
    item_views = [
        self._item_view(
            catalog,
            i,
            docs_by_item.get(i["ref"], []),
            (typical or {}).get((i["code"], prefecture(i["region"]))),
        )
        for i in items
    ]
    names = {i.ref: i.name for i in item_views}
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
        items=item_views,
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
                label=event_label(e["type"], names.get(e["item_ref"])),
            )
            for e in events
        ],
        timeline_intact=intact,
        can_withdraw=st.may_withdraw(row["status"], [i["status"] for i in items]),
    )


def _item_view(
    self: CaseService, catalog, i: dict[str, Any], documents: list[dict[str, Any]], typical: Typical | None = None
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
