"""帮办代办: window staff start an application for a visitor, with the visitor's consent.

1. ``start``: staff enter the enterprise and the visitor (a person on its record); the
   visitor's face verification starts (identity) and its link is shown to the visitor.
2. ``confirm``: once the visitor's face verification passed, the draft is created *as the
   visitor* (the case belongs to the applicant, channel ``window``) and staff fill it in.
3. ``handoff``: a link (and QR code on the page) opens the case on the visitor's own phone,
   (the PWA route ``#/case/<id>/tasks``), where the visitor signs and submits.
Staff never sign for the visitor. Every step is audited against the case.
"""

from __future__ import annotations

import uuid

from backend.db import writing_transaction
from backend.identity.actor import Actor
from backend.lib.problems import ProblemError
from backend.lib.validators import validate_uscc
from backend.workbench import seams
from backend.workbench.schemas import AssistedView
from backend.workbench.tables import AssistedApplication

WINDOW_ROLE = "window_staff"


def require_window_staff(actor: Actor) -> None:
    if WINDOW_ROLE not in actor.roles:
        raise ProblemError(403, "forbidden", "仅窗口工作人员可以帮办代办。 Only window staff may assist applicants.")


def _view(platform, row: dict, face_url: str = "") -> AssistedView:
    base = platform.settings.base_url.rstrip("/")
    handoff = f"{base}/#/case/{row['case_public_id']}/tasks" if row["case_public_id"] else ""
    return AssistedView(
        id=row["public_id"],
        status=row["status"],
        uscc=row["uscc"],
        visitor_id=row["visitor_id"],
        visitor_name=row["visitor_name"],
        hall=row["hall"],
        face_url=face_url,
        case_id=row["case_public_id"],
        handoff_url=handoff if row["status"] == "handed_over" else "",
    )


async def _row(actor: Actor, assisted_id: str) -> dict:
    row = await AssistedApplication.select().where(AssistedApplication.public_id == assisted_id).first()
    if row is None or row["staff_id"] != actor.id:
        raise ProblemError(404, "assisted_not_found", "找不到该帮办记录。 No such assisted application.")
    return row


async def start(platform, actor: Actor, uscc: str, visitor_id: str, visitor_name: str = "") -> AssistedView:
    require_window_staff(actor)
    uscc = validate_uscc(uscc)
    if not await platform.cases.may_act_for(Actor(id=visitor_id), uscc):
        raise ProblemError(
            403,
            "not_authorised_for_enterprise",
            "来访人不是该企业的法定代表人、投资人、清算组成员或受托经办人。 "
            "The visitor may not act for this enterprise.",
            field="visitor_id",
        )
    now = platform.clock.now_ms()
    public_id = uuid.uuid4().hex
    face = await seams.start_visitor_face_check(platform, visitor_id, visitor_name, public_id)
    async with writing_transaction(platform.engine):
        await AssistedApplication.insert(
            AssistedApplication(
                public_id=public_id,
                hall=actor.hall or "",
                staff_id=actor.id,
                visitor_id=visitor_id,
                visitor_name=visitor_name,
                uscc=uscc,
                status="consent_pending",
                verification_id=face.verification_id,
                created_at=now,
                updated_at=now,
            )
        )
    return _view(platform, await _row(actor, public_id), face.provider_url)


async def confirm(platform, actor: Actor, assisted_id: str) -> AssistedView:
    """The visitor consented (face verified): create the draft as the visitor, channel ``window``."""
    require_window_staff(actor)
    row = await _row(actor, assisted_id)
    if row["status"] == "consent_pending":
        await seams.require_visitor_face_verified(platform, row["visitor_id"], assisted_id)
        draft = await platform.cases.create_draft(
            Actor(id=row["visitor_id"], name=row["visitor_name"]), row["uscc"], "window"
        )
        async with writing_transaction(platform.engine):
            await AssistedApplication.update(
                {
                    AssistedApplication.status: "consented",
                    AssistedApplication.case_public_id: draft.id,
                    AssistedApplication.updated_at: platform.clock.now_ms(),
                }
            ).where((AssistedApplication.id == row["id"]) & (AssistedApplication.status == "consent_pending"))
        await seams.audit(platform, actor, draft.id, "assisted.start")
    return _view(platform, await _row(actor, assisted_id))


async def handoff(platform, actor: Actor, assisted_id: str) -> AssistedView:
    """Hand the case to the visitor's phone to sign and submit (a link, shown as a QR code)."""
    require_window_staff(actor)
    row = await _row(actor, assisted_id)
    if row["status"] == "consent_pending":
        raise ProblemError(409, "consent_required", "来访人尚未完成人脸识别授权。 The visitor has not consented yet.")
    async with writing_transaction(platform.engine):
        await AssistedApplication.update(
            {AssistedApplication.status: "handed_over", AssistedApplication.updated_at: platform.clock.now_ms()}
        ).where(AssistedApplication.id == row["id"])
    await seams.audit(platform, actor, row["case_public_id"], "assisted.handoff")
    view = _view(platform, await _row(actor, assisted_id))
    # the service record is what proves the visit: it issues the visitor's one-time rating token
    token = await seams.visit_rating_token(
        platform, assisted_id=assisted_id, hall=row["hall"], region="", visitor_id=row["visitor_id"]
    )
    if token is not None:
        view.rating_token, view.rating_token_expires_at = token.visit_token, token.expires_at
    return view


async def get(platform, actor: Actor, assisted_id: str) -> AssistedView:
    require_window_staff(actor)
    return _view(platform, await _row(actor, assisted_id))
