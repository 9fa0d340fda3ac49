"""Drafts: creating and saving them, materials, signatures (电子签名) and draft expiry.

Functions of ``CaseService`` (``backend.cases.service``), each taking the service as ``self``;
the class binds them as its methods."""

from __future__ import annotations

import asyncio
import hashlib
import uuid
from typing import TYPE_CHECKING, Any

import msgspec

from backend.cases import ports, timeline
from backend.cases import states as st
from backend.cases.common import (
    DAY_MS,
    EXPIRY_JOB,
    _json,
    _load,
    _plan,
    require_draft,
)
from backend.cases.materials import check_upload
from backend.cases.schemas import (
    CaseView,
    MaterialView,
    Requirement,
)
from backend.cases.tables import CaseDocument, CaseFile, CaseItem, CaseMaterial
from backend.catalog import get_catalog, validate_draft
from backend.db import stored
from backend.identity import (
    FaceVerificationNeeded,
    SignerRef,
    create_signing,
    face_verified_at,
    render_pdf,
    signing_status,
)
from backend.identity.actor import Actor
from backend.lib.language import bilingual
from backend.lib.problems import ProblemError
from backend.lib.validators import validate_uscc
from backend.registration import EnterpriseRecord

if TYPE_CHECKING:
    from backend.cases.service import CaseService


async def create_draft(self: CaseService, actor: Actor, uscc: str, channel: str = "pwa") -> CaseView:
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
    catalog = get_catalog(await ports.catalog_version(self.platform))  # the published version; the case keeps it
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


def _prefill(self: CaseService, record: EnterpriseRecord, actor: Actor) -> dict[str, Any]:
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
    self: CaseService,
    actor: Actor,
    public_id: str,
    *,
    answers: dict | None,
    form_data: dict | None,
    version: int | None,
) -> CaseView:
    """Save answers and form data; a stale ``version`` is a 409 so nothing is overwritten silently."""
    row = await self.case_for(actor, public_id, "update")
    require_draft(
        row, "申请已提交，不能再修改；如需补正请按事项办理。 The case was submitted and can no longer be edited."
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


async def plan_for(self: CaseService, row: dict[str, Any]) -> tuple[Any, list[dict[str, Any]]]:
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


async def add_material(
    self: CaseService, actor: Actor, public_id: str, code: str, filename: str, content: bytes
) -> MaterialView:
    row = await self.case_for(actor, public_id, "upload")
    if row["status"] not in (st.DRAFT, st.ACTION_REQUIRED):
        raise ProblemError(409, "case_not_editable", "当前状态不能上传材料。 Materials cannot be added now.")
    media_type = check_upload(content)
    plan, _ = await self.plan_for(row)
    if plan is not None and code not in {m.code for m in plan.materials}:
        known = get_catalog(row["catalog_version"]).materials.get(code)
        raise ProblemError(
            422,
            "unknown_material",
            f"本申请不需要“{known.name.zh}”。 This case does not need the {known.name.en}."
            if known
            else "本申请不需要该材料。 This case does not need that material.",
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
        data = {"code": code, "sha256": digest, "size": len(content)}
        event = await _materials_changed(row, st.MATERIAL_ADDED, now, actor, data)
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


async def _materials_changed(
    row: dict[str, Any], event_type: str, now: int, actor: Actor, data: dict[str, Any]
) -> dict[str, Any]:
    """In the caller's transaction: the case was changed now, and its timeline says how."""
    await CaseFile.update({CaseFile.updated_at: now}).where(CaseFile.id == row["id"])
    return await timeline.append(row["id"], event_type, at=now, actor=actor.id, data=data)


async def remove_material(self: CaseService, actor: Actor, public_id: str, material_id: int) -> None:
    """Take a wrong file off a draft (its content is deleted; the timeline keeps its hash). Once the
    application is submitted its materials are part of the record: another file is added instead."""
    row = await self.case_for(actor, public_id, "upload")
    require_draft(
        row,
        "申请已提交，材料不能删除；如需更换，请上传新的文件。 The application is submitted: upload a new file instead.",
    )
    now = self.clock.now_ms()
    async with self.transaction():
        await self._lock(row["id"])
        removed = (
            await CaseMaterial.delete()
            .where((CaseMaterial.id == material_id) & (CaseMaterial.case_file == row["id"]))
            .returning(CaseMaterial.code, CaseMaterial.sha256)
        )
        if not removed:
            raise ProblemError(404, "material_not_found", "找不到该材料。 No such material.")
        data = {"code": removed[0]["code"], "sha256": removed[0]["sha256"]}
        event = await _materials_changed(row, st.MATERIAL_REMOVED, now, actor, data)
    await self._announce(public_id, [event])


async def material_content(self: CaseService, actor: Actor, public_id: str, material_id: int) -> tuple[str, str, bytes]:
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


async def document_content(self: CaseService, actor: Actor, public_id: str, document_id: int) -> tuple[str, str, bytes]:
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


async def start_signing(self: CaseService, actor: Actor, public_id: str):
    """Render the merged application as a PDF and ask every required signer to sign it."""

    row = await self.case_for(actor, public_id, "sign")
    require_draft(row, "申请已提交。 The case was already submitted.")
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
    # ~10 ms of CPU (font subsets, qpdf writing the file): off the event loop
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


async def signing(self: CaseService, actor: Actor, public_id: str):

    row = await self.case_for(actor, public_id, "signatures")
    return await signing_status(self.platform, row["signing_reference"] or f"{public_id}.unsigned")


def _application_lines(self: CaseService, row: dict[str, Any], plan: Any, record: EnterpriseRecord) -> list[str]:
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
            value = "；".join(", ".join(str(v) for v in (x.values() if isinstance(x, dict) else [x])) for x in value)
        lines.append(f"{schema.get('title', key)}：{'' if value is None else value}")
    lines += ["", "申请办理事项："] + [f"  {i.name.zh}（{i.department.name.zh}）" for i in plan.items]
    lines += ["", "本人（本单位）承诺所填内容真实、合法、有效，并承担相应法律责任。"]
    return lines


async def _identity_gate(self: CaseService, row: dict[str, Any], actor: Actor) -> list[Requirement]:
    """Face verification of the person submitting, and every required signature on the current text."""

    missing: list[Requirement] = []
    if actor.kind == "person" and await face_verified_at(self.platform, actor.id, "submit", row["public_id"]) is None:
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


async def expire_drafts_job(self: CaseService, public_id: str) -> None:
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
