"""The case service: drafts, pre-check, materials, submission, corrections and withdrawal.

Routes, workers and tests all call this. Every state change happens in one writing
transaction that also appends to the hash-chained timeline and, where work follows,
writes the job row (transactional outbox); live updates go out after the commit.

``CaseService`` is the package's API. This module holds its plumbing, the one access decision
(``_authorize``) and the status; the work lives in one module each, as functions taking the
service as ``self`` that the class binds as its methods: ``drafts`` (drafts, materials,
signatures, expiry), ``submission`` (pre-check, submission, queueing), ``corrections``
(withdrawal, corrections, re-drives, 公示期 / 异议期) and ``views`` (the case view and
summaries). What they share is in ``common``.
"""

from __future__ import annotations

import asyncio
import functools
import time
from collections.abc import Awaitable, Callable, Iterable
from typing import Any

import msgspec
from piccolo.engine.postgres import PostgresEngine

from backend import db
from backend.cases import corrections, drafts, submission, views
from backend.cases.common import (
    ADMIN_ACTIONS,
    APPLICANT_ACTIONS,
    CASE_SQL,
    STAFF_ACTIONS,
    STATUS_CACHE_MAX,
    WHOLE_CASE,
    WHOLE_CASE_ACTIONS,
    Access,
    Capacity,
    Gate,
    Publisher,
    cst_date,
    log,
)
from backend.cases.schemas import (
    CaseStatus,
    CaseView,
    ItemStatus,
)
from backend.cases.tables import CaseFile, CaseItem
from backend.cases.typical import TypicalDurations
from backend.db import raw
from backend.identity import (
    Principal,
    audit_access,
)
from backend.identity.actor import Actor, is_admin
from backend.lib.problems import ProblemError
from backend.lib.workdays import WorkCalendar
from backend.registration import EnterpriseRecord


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
        # case changed is not kept. Past half its lifetime a kept view is read again in the
        # background (``_view_refreshing``), so readers of a busy case never wait for its rebuild.
        self._view_cache: dict[str, tuple[float, dict[str, Any], CaseView, dict[str, bytes]]] = {}
        self._view_refreshing: dict[str, asyncio.Task[None]] = {}
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
        if not agency_reach and not is_admin(actor):
            raise ProblemError(404, "case_not_found", "找不到该申请。 No such case.")
        if action in APPLICANT_ACTIONS:
            # Staff may look, not act: editing, signing, submitting, withdrawing are the applicant's
            # (tests/security/test_authorization_matrix.py fails if this goes).
            raise ProblemError(
                403, "forbidden", "工作人员不能代替申请人办理该操作。 Staff cannot act for the applicant."
            )
        if action in ADMIN_ACTIONS and not is_admin(actor):
            raise ProblemError(403, "forbidden", "仅管理员可以执行该操作。 Administrators only.")
        if action in STAFF_ACTIONS and not agency_reach:
            # an objection is a department's (an agency with an item in this case); an administrator runs the platform
            raise ProblemError(
                403, "forbidden", "异议由相关部门工作人员登记。 Objections are recorded by agency staff."
            )
        await self._audit(actor, row["public_id"], action)
        return Access(staff=True, agencies=None if is_admin(actor) and not agency_reach else actor.agencies)

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

    create_draft = drafts.create_draft

    _prefill = drafts._prefill

    update_draft = drafts.update_draft

    plan_for = drafts.plan_for

    # ------------------------------------------------------------------ materials

    add_material = drafts.add_material

    remove_material = drafts.remove_material

    material_content = drafts.material_content

    document_content = drafts.document_content

    # ------------------------------------------------------------------ signatures (电子签名)

    #: Who must sign the application, by route, from the registration record's capacities.
    SIGNER_ROLES = {
        "simplified": {"legal_rep", "investor", "partner", "operator", "branch_head"},  # 全体投资人承诺书
        "general": {"legal_rep", "liquidation_head", "liquidator", "operator", "branch_head"},  # 清算组
    }

    start_signing = drafts.start_signing

    signing = drafts.signing

    _application_lines = drafts._application_lines

    _identity_gate = drafts._identity_gate

    # ------------------------------------------------------------------ readiness and submission

    requirements = submission.requirements

    precheck = submission.precheck

    submit = submission.submit

    _instantiate = submission._instantiate

    _due_estimated = submission._due_estimated

    _due_on = submission._due_on

    _queue_item = submission._queue_item

    _queue_items = submission._queue_items

    _send_jobs = submission._send_jobs

    _queued_entries = staticmethod(submission._queued_entries)

    # ------------------------------------------------------------------ withdrawal and corrections

    withdraw = corrections.withdraw

    correct = corrections.correct

    redrive = corrections.redrive

    _refresh_case_status = corrections._refresh_case_status

    # ------------------------------------------------------------------ timed stages (公示期 / 异议期)

    _period = corrections._period

    start_notice = corrections.start_notice

    end_case_notice_now = corrections.end_case_notice_now

    end_notice = corrections.end_notice

    object = corrections.object

    # ------------------------------------------------------------------ draft expiry

    expire_drafts_job = drafts.expire_drafts_job

    # ------------------------------------------------------------------ reading

    find_by_number = views.find_by_number

    list_mine = views.list_mine

    _summaries = views._summaries

    view = views.view

    view_json = views.view_json

    _fresh_view = views._fresh_view

    _kept_view = views._kept_view

    _renew_view = views._renew_view

    _load_view = views._load_view

    _completed_items = views._completed_items

    narrow = staticmethod(views.narrow)

    _render = views._render

    _item_view = views._item_view
