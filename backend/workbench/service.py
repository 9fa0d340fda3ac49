"""The agency workbench: staff see their agency's items with SLA clocks and act on them.

Staff outcomes go through the same ``Dispatcher._apply`` as a verified agency callback,
so the case flow (dependants released, refusals stopping dependants, notifications,
timeline, case status) is exactly the one an integrated system produces. Staff act only
on items of systems in manual mode (an integrated system owns its items), and only on
items of their own agencies and regions; every read and action is audited.
"""

from __future__ import annotations

import base64
import hashlib
from datetime import date
from typing import Any

import msgspec

from backend.cases import states as st
from backend.cases.common import _json, _load, cst_date
from backend.cases.materials import check_upload, sniff
from backend.cases.tables import CaseDocument, CaseFile, CaseItem, CaseMaterial
from backend.catalog import get_catalog
from backend.connectors.base import CallbackResult, Correction, Outcome, Reason, ResultDocument
from backend.db import stored
from backend.identity.actor import Actor
from backend.lib.clock import to_datetime
from backend.lib.problems import ProblemError
from backend.lib.workdays import WorkCalendar
from backend.workbench import seams
from backend.workbench.connector import MANUAL, connector_mode
from backend.workbench.schemas import (
    ActionRecord,
    EarlierResult,
    MaterialLink,
    ProjectedField,
    Sla,
    WorkItem,
    WorkItemDetail,
)
from backend.workbench.tables import StaffAction

OPEN_STATES = (st.QUEUED, st.SENT, st.ACCEPTED, st.IN_PROGRESS, st.CORRECTION, st.DISPATCH_FAILED)
#: actions staff may take, by item status
ALLOWED = {
    st.SENT: ("accept", "request_correction", "approve", "refuse"),
    st.ACCEPTED: ("request_correction", "approve", "refuse"),
    st.IN_PROGRESS: ("request_correction", "approve", "refuse"),
}
ACTION_OUTCOME: dict[str, Outcome] = {
    "accept": "accepted",
    "request_correction": "correction_requested",
    "approve": "completed",
    "refuse": "rejected",
}
STAFF_ROLE = "agency_staff"


def sla_of(calendar: WorkCalendar, due_on: str, promised_days: int, today: date, closed_on: date | None = None) -> Sla:
    """Working days left until ``due_on`` (negative once overdue); a closed item is measured at its close."""
    if not due_on:
        return Sla(due_on="", promised_days=promised_days, days_left=None, overdue=False)
    due = date.fromisoformat(due_on)
    ref = closed_on or today
    left = calendar.between(ref, due) if due >= ref else -calendar.between(due, ref)
    return Sla(due_on=due_on, promised_days=promised_days, days_left=left, overdue=ref > due)


def require_staff(actor: Actor) -> None:
    if STAFF_ROLE not in actor.roles or not actor.agencies:
        raise ProblemError(403, "forbidden", "仅部门工作人员可以使用工作台。 Only agency staff may use the workbench.")


def in_scope(actor: Actor, system: str, region: str) -> bool:
    return system in actor.agencies and actor.in_region(region)


class Workbench:
    """Reads and actions of the agency workbench (routes and tests call this)."""

    def __init__(self, platform) -> None:
        self.platform = platform

    @property
    def service(self):
        return self.platform.cases

    @property
    def calendar(self) -> WorkCalendar:
        return self.service.calendar

    def today(self) -> date:
        return cst_date(self.platform.clock.now_ms())

    # ------------------------------------------------------------------ reading

    def _work_item(self, catalog, item: dict[str, Any], case: dict[str, Any], manual: bool) -> WorkItem:
        spec = catalog.items.get(item["code"])
        name = {"zh-CN": spec.name.zh, "en": spec.name.en} if spec else {"zh-CN": item["code"], "en": item["code"]}
        zh, en = st.ITEM_LABELS[item["status"]]
        closed = cst_date(item["closed_at"]) if item["closed_at"] else None
        return WorkItem(
            ref=item["ref"],
            code=item["code"],
            name=name,
            system=item["system"],
            region=item["region"] or case["region"],
            status=item["status"],
            status_label={"zh-CN": zh, "en": en},
            case_id=case["public_id"],
            case_number=case["number"],
            enterprise_name=case["enterprise_name"],
            uscc=case["uscc"],
            entity_type=case["entity_type"],
            channel=case["channel"],
            reference=item["reference"],
            queued_at=item["queued_at"],
            sla=sla_of(self.calendar, item["due_on"], item["promised_days"], self.today(), closed),
            manual=manual,
        )

    async def list_items(
        self, actor: Actor, *, status: str | None = None, include_closed: bool = False
    ) -> list[WorkItem]:
        """The staff member's agency items in their regions, most urgent first."""
        require_staff(actor)
        query = CaseItem.select().where(CaseItem.system.is_in(sorted(actor.agencies)))
        if status:
            query = query.where(CaseItem.status == status)
        elif not include_closed:
            query = query.where(CaseItem.status.is_in(list(OPEN_STATES)))
        items = await query.order_by(CaseItem.id).limit(2000)
        cases = {
            c["id"]: c
            for c in await CaseFile.select().where(CaseFile.id.is_in(sorted({i["case_file"] for i in items}) or [0]))
        }
        modes = {s: await connector_mode(s) for s in actor.agencies}
        out = []
        for item in items:
            case = cases[item["case_file"]]
            if actor.in_region(item["region"] or case["region"]):
                out.append(
                    self._work_item(
                        get_catalog(case["catalog_version"]), item, case, modes.get(item["system"]) == MANUAL
                    )
                )
        out.sort(key=lambda w: (w.sla.days_left if w.sla.days_left is not None else 10**6, w.queued_at or 0))
        return out

    async def _scoped(self, actor: Actor, ref: str) -> tuple[dict[str, Any], dict[str, Any]]:
        require_staff(actor)
        item = await CaseItem.select().where(CaseItem.ref == ref).first()
        if item is None:
            raise ProblemError(404, "item_not_found", "找不到该事项。 No such item.")
        case = stored(await CaseFile.select().where(CaseFile.id == item["case_file"]).first())  # the item's case (FK)
        if not in_scope(actor, item["system"], item["region"] or case["region"]):
            raise ProblemError(
                403, "outside_scope", "该事项不属于您所在部门或辖区。 This item is outside your agency or region."
            )
        return item, case

    async def detail(self, actor: Actor, ref: str) -> WorkItemDetail:
        """One item: the merged form projected to it, its materials, the case's earlier results (audited)."""
        item, case = await self._scoped(actor, ref)
        await seams.audit(self.platform, actor, case["public_id"], "workbench.read")
        catalog = get_catalog(case["catalog_version"])
        spec = catalog.items.get(item["code"])
        matter = spec.matter if spec else ""
        form_data = _load(case["form_data"], {})
        form = []
        for f in catalog.form.fields:
            target = f.maps.get(item["code"]) or f.maps.get(matter)
            if target:
                form.append(
                    ProjectedField(
                        key=f.key,
                        payload_field=target,
                        title={"zh-CN": f.title.zh, "en": f.title.en},
                        value=form_data.get(f.key),
                    )
                )
        needed = {m.code for m in catalog.materials.values() if item["code"] in m.items or matter in m.matters}
        rows = (
            await CaseMaterial.select(
                CaseMaterial.id,
                CaseMaterial.code,
                CaseMaterial.filename,
                CaseMaterial.media_type,
                CaseMaterial.size,
                CaseMaterial.sha256,
            )
            .where(CaseMaterial.case_file == case["id"])
            .order_by(CaseMaterial.id)
        )
        materials = []
        for m in rows:
            if m["code"] not in needed:
                continue
            spec_m = catalog.materials.get(m["code"])
            name = {"zh-CN": spec_m.name.zh, "en": spec_m.name.en} if spec_m else {"zh-CN": m["code"], "en": m["code"]}
            materials.append(
                MaterialLink(
                    id=m["id"],
                    code=m["code"],
                    name=name,
                    filename=m["filename"],
                    media_type=m["media_type"],
                    size=m["size"],
                    sha256=m["sha256"],
                    href=f"/api/v1/workbench/items/{ref}/materials/{m['id']}",
                )
            )
        siblings = (
            await CaseItem.select()
            .where((CaseItem.case_file == case["id"]) & (CaseItem.ref != ref))
            .order_by(CaseItem.id)
        )
        docs = await CaseDocument.select(
            CaseDocument.id, CaseDocument.item_ref, CaseDocument.name, CaseDocument.media_type, CaseDocument.sha256
        ).where(CaseDocument.case_file == case["id"])
        earlier = []
        for s in siblings:
            if s["status"] != st.COMPLETED:
                continue
            s_spec = catalog.items.get(s["code"])
            earlier.append(
                EarlierResult(
                    ref=s["ref"],
                    code=s["code"],
                    name={"zh-CN": s_spec.name.zh, "en": s_spec.name.en}
                    if s_spec
                    else {"zh-CN": s["code"], "en": s["code"]},
                    status=s["status"],
                    reference=s["reference"],
                    closed_at=s["closed_at"],
                    documents=[
                        {
                            "id": d["id"],
                            "name": d["name"],
                            "media_type": d["media_type"],
                            "sha256": d["sha256"],
                            "href": f"/api/v1/workbench/items/{ref}/documents/{d['id']}",
                        }
                        for d in docs
                        if d["item_ref"] == s["ref"]
                    ],
                )
            )
        actions = await StaffAction.select().where(StaffAction.item_ref == ref).order_by(StaffAction.id)
        manual = await self._is_manual(item)
        return WorkItemDetail(
            item=self._work_item(catalog, item, case, manual),
            form=form,
            materials=materials,
            earlier_results=earlier,
            corrections=_load(item["corrections"], []),
            reasons=_load(item["reasons"], []),
            actions=[
                ActionRecord(
                    action=a["action"], actor=a["actor"], actor_name=a["actor_name"], message=a["message"], at=a["at"]
                )
                for a in actions
            ],
            allowed=list(ALLOWED.get(item["status"], ())) if manual else [],
        )

    async def material(self, actor: Actor, ref: str, material_id: int) -> tuple[str, str, bytes]:
        item, case = await self._scoped(actor, ref)
        m = (
            await CaseMaterial.select()
            .where((CaseMaterial.id == material_id) & (CaseMaterial.case_file == case["id"]))
            .first()
        )
        if m is None:
            raise ProblemError(404, "material_not_found", "找不到该材料。 No such material.")
        await seams.audit(self.platform, actor, case["public_id"], "workbench.material")
        return m["filename"], m["media_type"], bytes(m["content"])

    async def document(self, actor: Actor, ref: str, document_id: int) -> tuple[str, str, bytes]:
        item, case = await self._scoped(actor, ref)
        d = (
            await CaseDocument.select()
            .where((CaseDocument.id == document_id) & (CaseDocument.case_file == case["id"]))
            .first()
        )
        if d is None or d["content"] is None:
            raise ProblemError(404, "document_not_found", "找不到该结果文书。 No such document.")
        await seams.audit(self.platform, actor, case["public_id"], "workbench.document")
        return d["name"], d["media_type"], bytes(d["content"])

    # ------------------------------------------------------------------ actions

    async def _is_manual(self, item: dict[str, Any]) -> bool:
        return (item["reference"] or "").startswith("MANUAL-") or await connector_mode(item["system"]) == MANUAL

    async def accept(self, actor: Actor, ref: str, message: str = "") -> tuple[str, WorkItem]:
        """受理."""
        return await self._act(actor, ref, "accept", message=message or "已受理")

    async def request_correction(
        self, actor: Actor, ref: str, picks: list[Correction], message: str
    ) -> tuple[str, WorkItem]:
        """退回补正: the applicant corrects the picked fields and materials of this item only."""
        if not 1 <= len(picks) <= 50:
            raise ProblemError(
                422,
                "invalid_correction",
                "请选择 1 至 50 项需要补正的字段或材料。 Pick 1 to 50 fields or materials.",
                field="items",
            )
        item, case = await self._scoped(actor, ref)
        catalog = get_catalog(case["catalog_version"])
        for c in picks:
            known = c.name in catalog.fields if c.kind == "field" else c.name in catalog.materials
            if not known:
                raise ProblemError(
                    422,
                    "unknown_correction_target",
                    f"未知的{'字段' if c.kind == 'field' else '材料'}：{c.name}。 Unknown {c.kind}.",
                    field="items",
                )
        return await self._act(actor, ref, "request_correction", message=message, corrections=picks)

    async def approve(
        self, actor: Actor, ref: str, filename: str, content: bytes, message: str = ""
    ) -> tuple[str, WorkItem]:
        """办结 with the result document (a PDF, checked by content)."""

        await self._scoped(actor, ref)  # who may act is decided before anything they sent is parsed
        if (
            sniff(content) not in (None, "application/pdf") or check_upload(content) != "application/pdf"
        ):  # unknown content: 415
            raise ProblemError(
                422, "result_not_pdf", "结果文书须为 PDF 文件。 The result document must be a PDF.", field="file"
            )
        name = (filename or "result.pdf")[:120]
        document = ResultDocument(
            name=name,
            media_type="application/pdf",
            sha256=hashlib.sha256(content).hexdigest(),
            content_base64=base64.b64encode(content).decode(),
        )
        return await self._act(actor, ref, "approve", message=message or "准予办结", documents=[document])

    async def refuse(self, actor: Actor, ref: str, reason: str, code: str = "refused_by_staff") -> tuple[str, WorkItem]:
        """不予办理, with the reason the applicant reads."""
        return await self._act(actor, ref, "refuse", message=reason, reasons=[Reason(code=code, message=reason)])

    async def _act(
        self, actor: Actor, ref: str, action: str, *, message: str, corrections=(), reasons=(), documents=()
    ) -> tuple[str, WorkItem]:
        item, case = await self._scoped(actor, ref)
        if not await self._is_manual(item):
            raise ProblemError(
                409,
                "not_manual",
                "该业务系统已对接，事项由系统办理。 This system is integrated; its items are worked there.",
            )
        now = self.platform.clock.now_ms()
        outcome = ACTION_OUTCOME[action]
        async with self.service.transaction():
            await self.service._lock(case["id"])
            current = stored(await CaseItem.select().where(CaseItem.id == item["id"]).first())  # read, now locked
            if action not in ALLOWED.get(current["status"], ()):
                raise ProblemError(
                    409,
                    "action_not_allowed",
                    f"事项当前状态为“{st.ITEM_LABELS[current['status']][0]}”，不能执行该操作。 "
                    "Not allowed in the item's current state.",
                )
            sequence = current["last_sequence"] + 1
            result = CallbackResult(
                event_id=f"workbench:{ref}:{sequence}",
                reference=current["reference"] or "",
                item_ref=ref,
                item_code=current["code"],
                system=current["system"],
                outcome=outcome,
                sequence=sequence,
                occurred_at=to_datetime(now).isoformat(),
                message=message,
                reasons=list(reasons),
                corrections=list(corrections),
                documents=list(documents),
            )
            applied, public_id, events = await self.platform.dispatcher._apply(result, now, source="workbench")
            if applied == "applied":
                await StaffAction.insert(
                    StaffAction(
                        item_ref=ref,
                        case_public_id=case["public_id"],
                        system=current["system"],
                        actor=actor.id,
                        actor_name=actor.name,
                        action=action,
                        message=message[:1000],
                        data=_json(
                            {
                                "corrections": [msgspec.to_builtins(c) for c in corrections],
                                "documents": [d.name for d in documents],
                            }
                        ),
                        at=now,
                    )
                )
        await self.platform.queue.notify()
        await self.service._announce(public_id, events)
        await seams.audit(self.platform, actor, case["public_id"], f"workbench.{action}")
        fresh = stored(await CaseItem.select().where(CaseItem.id == item["id"]).first())  # items are never deleted
        fresh_case = stored(await CaseFile.select().where(CaseFile.id == case["id"]).first())
        return applied, self._work_item(get_catalog(case["catalog_version"]), fresh, fresh_case, True)
