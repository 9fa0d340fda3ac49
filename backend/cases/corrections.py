"""After submission: withdrawal (撤回), corrections (补正), re-drives and the timed stages (公示期 / 异议期).

Functions of ``CaseService`` (``backend.cases.service``), each taking the service as ``self``;
the class binds them as its methods."""

from __future__ import annotations

from datetime import timedelta
from typing import TYPE_CHECKING, Any

from backend.cases import states as st
from backend.cases import timeline
from backend.cases.common import (
    DAY_MS,
    NOTICE,
    NOTICE_END_JOB,
    _json,
    _load,
    cst_date,
    update_sql,
)
from backend.cases.schemas import (
    CaseView,
)
from backend.cases.tables import CaseEvent, CaseFile, CaseItem, CaseMaterial
from backend.catalog import get_catalog, validate_draft, validate_submission
from backend.db import raw, stored
from backend.identity.actor import Actor
from backend.jobs import RetryLater
from backend.jobs.tables import Job
from backend.lib.problems import FieldError, ProblemError

if TYPE_CHECKING:
    from backend.cases.service import CaseService


async def withdraw(self: CaseService, actor: Actor, public_id: str, reason: str = "") -> CaseView:
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
        started = [i for i in items if i["status"] not in st.WITHDRAWABLE]
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
    self: CaseService, actor: Actor, public_id: str, code: str, form_data: dict[str, Any], message: str = ""
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
        await _asked_files_uploaded(row["id"], item)
        if form_data:
            current = _load(
                stored(await CaseFile.select(CaseFile.form_data).where(CaseFile.id == row["id"]).first())["form_data"],
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


FRESH_MATERIALS_SQL = "SELECT DISTINCT code FROM case_material WHERE case_file = {} AND at >= {}"


async def _asked_files_uploaded(case_pk: int, item: dict[str, Any]) -> None:
    """Refuse a correction that leaves out a file its agency asked for: each material named in the
    request needs an upload made since the request (one from before is what the agency refused)."""
    asked = [c for c in _load(item["corrections"], []) if c.get("kind") == "material"]
    if not asked:
        return
    requested = await raw(
        CaseEvent,
        "SELECT MAX(at) AS at FROM case_event WHERE case_file = {} AND item_ref = {} AND type = {}",
        case_pk,
        item["ref"],
        st.ITEM_OUTCOME.format(outcome=st.CORRECTION),
    )
    since = requested[0]["at"] or 0
    fresh = {r["code"] for r in await raw(CaseMaterial, FRESH_MATERIALS_SQL, case_pk, since)}
    missing = [c for c in asked if c.get("name") not in fresh]
    if not missing:
        return

    def named(c: dict[str, Any]) -> tuple[str, str]:  # the material's name (a code the catalog lacks: as sent)
        label = c.get("label") or {}
        return label.get("zh") or c["name"], label.get("en") or c["name"]

    def error(c: dict[str, Any]) -> FieldError:
        zh, en = named(c)
        message = f"请上传：{zh}。 Upload this file: {en}."
        return FieldError(f"materials.{c['name']}", "correction_file_missing", message)

    zh, en = named(missing[0])
    raise ProblemError(
        422,
        "correction_file_missing",
        f"请先上传部门要求补正的材料：{zh}。 Upload the file the agency asked for first: {en}.",
        errors=[error(c) for c in missing],
    )


async def redrive(self: CaseService, actor: Actor, ref: str) -> None:
    """Administrators: send an item whose delivery failed again (same idempotency key: safe); decided
    by the case's access rule and audited like every staff action."""
    now = self.clock.now_ms()
    item = await CaseItem.select(CaseItem.case_file, CaseItem.status).where(CaseItem.ref == ref).first()
    if item is not None:
        row = (await raw(CaseFile, "SELECT * FROM case_file WHERE id = {}", item["case_file"]))[0]
        await self._authorize(actor, row, "redrive")
    if item is None or item["status"] != st.DISPATCH_FAILED:
        raise ProblemError(409, "not_dispatch_failed", "该事项不处于推送失败状态。 The item's delivery has not failed.")
    async with self.transaction():
        await self._lock(item["case_file"])
        # the dead send job goes round again (its dedupe key would stop a new one being written)
        generation = stored(await CaseItem.select(CaseItem.generation).where(CaseItem.ref == ref).first())["generation"]
        await Job.update({Job.status: "pending", Job.attempts: 0, Job.run_at: now, Job.last_error: ""}).where(
            (Job.dedupe_key == f"send:{ref}:{generation}") & (Job.status == "dead")
        )
        events = [await timeline.append(item["case_file"], st.ITEM_REDRIVEN, at=now, item_ref=ref, actor=actor.id)]
        events.append(await self._queue_item(item["case_file"], ref, now, actor=actor.id))
    await self.platform.queue.notify()
    case = stored(await CaseFile.select(CaseFile.public_id).where(CaseFile.id == item["case_file"]).first())  # FK
    await self._announce(case["public_id"], events)


async def _refresh_case_status(
    self: CaseService,
    case_id: int,
    now: int,
    events: list[dict[str, Any]],
    *,
    statuses: list[str] | None = None,
    current: str | None = None,
) -> None:
    """Derive the case's status from its items' (``statuses`` and the ``current`` case status when known)."""
    if statuses is None:
        statuses = [r["status"] for r in await CaseItem.select(CaseItem.status).where(CaseItem.case_file == case_id)]
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


def _period(self: CaseService, catalog_version: str, code: str):
    return next(p for p in get_catalog(catalog_version).periods if p.code == code)


async def start_notice(self: CaseService, item: dict[str, Any], case: dict[str, Any]) -> None:
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


async def end_case_notice_now(self: CaseService, public_id: str) -> bool:
    """Test environment: end the case's open publicity period now; False if it has none."""
    case = await CaseFile.select(CaseFile.id).where(CaseFile.public_id == public_id).first()
    if case is None:
        return False
    item = (
        await CaseItem.select(CaseItem.ref)
        .where((CaseItem.case_file == case["id"]) & (CaseItem.code == NOTICE))
        .first()
    )
    return item is not None and await self.end_notice(item["ref"], early=True)


async def end_notice(self: CaseService, ref: str, *, early: bool = False) -> bool:
    """Close the window without objection (at its end; ``early`` in the test environment only)."""
    item = await CaseItem.select().where(CaseItem.ref == ref).first()
    if item is None or item["status"] != st.IN_PROGRESS:
        return False
    now = self.clock.now_ms()
    ends_at = _load(item["result"], {}).get("ends_at", 0)
    if now < ends_at and not early:
        raise RetryLater("publicity period still running", delay=(ends_at - now) / 1000)
    case = stored(await CaseFile.select(CaseFile.public_id).where(CaseFile.id == item["case_file"]).first())  # FK
    async with self.transaction():
        await self._lock(item["case_file"])
        moved = (
            await CaseItem.update({CaseItem.status: st.COMPLETED, CaseItem.closed_at: now, CaseItem.updated_at: now})
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


async def object(self: CaseService, actor: Actor, public_id: str, message: str) -> CaseView:
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
