"""Readiness (注销预检) and submission (一次提交): numbering, items, the first sends.

Functions of ``CaseService`` (``backend.cases.service``), each taking the service as ``self``;
the class binds them as its methods."""

from __future__ import annotations

import asyncio
from datetime import date
from typing import TYPE_CHECKING, Any

import msgspec

from backend.cases import ports, timeline
from backend.cases import states as st
from backend.cases.common import (
    CASE_SQL,
    EVENTS_SQL,
    MATERIALS_SQL,
    NOTICE,
    SEND_ATTEMPTS,
    SEND_JOB,
    _field_message,
    _items_insert,
    _json,
    _load,
    case_blocked,
    cst_date,
    log,
    update_sql,
)
from backend.cases.numbering import next_number
from backend.cases.schemas import (
    CaseView,
    Readiness,
    Requirement,
)
from backend.cases.tables import CaseEvent, CaseFile, CaseItem, CaseMaterial
from backend.catalog import get_catalog, validate_submission
from backend.catalog.engine import context
from backend.catalog.schemas import Blocker, Ref, Text
from backend.db import raw, stored
from backend.identity.actor import Actor
from backend.lib.language import bilingual, split
from backend.lib.problems import FieldError, ProblemError
from backend.registration import EnterpriseRecord

if TYPE_CHECKING:
    from backend.cases.service import CaseService


async def requirements(
    self: CaseService,
    actor: Actor,
    row: dict[str, Any],
    *,
    gates: bool = True,
    materials: list[dict[str, Any]] | None = None,
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


async def precheck(self: CaseService, actor: Actor, public_id: str) -> Readiness:
    """注销预检: plan blockers, missing requirements and every applicable agency's own blockers."""
    row = await self.case_for(actor, public_id, "precheck")
    plan, blockers, missing = await self.requirements(actor, row)
    checked: list[str] = []
    unreachable: list[str] = []
    if plan is not None:

        async def ask(code: str, agency: Ref) -> None:
            system = agency.code
            connector = ports.connector(self.platform, system)
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


async def submit(self: CaseService, actor: Actor, public_id: str, idempotency_key: str) -> CaseView:
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
    self: CaseService, public_id: str, row: dict[str, Any], plan: Any, record: EnterpriseRecord
) -> list[dict[str, Any]]:
    """Case items from the plan: one per item; BANK once per account (basic last); SEAL once per seal
    system; plus a NOTICE stage for each statutory period the catalog says blocks a matter."""

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


def _due_estimated(self: CaseService, due_on: str, queued_at: int | None = None) -> bool:
    """Whether a due date counts days of a year whose holidays are computed, not official."""
    if not due_on:
        return False
    start = cst_date(queued_at) if queued_at else None
    return self.calendar.relies_on_estimate(date.fromisoformat(due_on), start)


def _due_on(self: CaseService, now: int, promised_days: int) -> str:
    return self.calendar.add(cst_date(now), promised_days).isoformat() if promised_days else ""


async def _queue_item(
    self: CaseService, case_id: int, ref: str, now: int, *, actor: str = "platform", after: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Move one item to 待推送 with its send job (``_queue_items``)."""
    item = stored(  # an item of the case locked by the caller
        await CaseItem.select(CaseItem.ref, CaseItem.generation, CaseItem.promised_days, CaseItem.system)
        .where(CaseItem.ref == ref)
        .first()
    )
    return (await self._queue_items(case_id, [item], now, actor=actor, after=after))[0]


async def _queue_items(
    self: CaseService,
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


def _send_jobs(self: CaseService, items: list[dict[str, Any]]) -> tuple[str, list[Any]]:
    """The statement writing the send jobs of items just queued (their ref and generation; at
    least one), to run in the same transaction: the outbox."""
    return self.platform.queue.enqueue_sql(
        SEND_JOB,
        [({"ref": i["ref"], "generation": i["generation"]}, f"send:{i['ref']}:{i['generation']}") for i in items],
        max_attempts=SEND_ATTEMPTS,
    )


def _queued_entries(items: list[dict[str, Any]], actor: str) -> list[dict[str, Any]]:
    """Timeline entries (``timeline.append_many``) for items just queued (their ref, system and due date)."""
    return [
        dict(type_=st.ITEM_QUEUED, item_ref=i["ref"], actor=actor, system=i["system"], data={"due_on": i["due_on"]})
        for i in items
    ]
