"""Task progress of a draft, kept on the server so every device shows the same task list.

Three steps of the applicant's task list are not answers or form data: "enterprise checked"
(核对企业信息), "form confirmed" (核对填写内容) and "face passed" (人脸识别). They used to live on
the phone only, so a second device (or the kiosk) showed them as not done. Here:

- *enterprise checked* is a time the applicant confirmed the register's facts;
- *form confirmed* is a digest of the form data the applicant confirmed: any later change to the
  form makes it unconfirmed again without anyone having to remember to reset it;
- *face passed* is not stored at all: it is what the submission gate will check
  (``face_verified_at`` for this person and case), so the list never says done when submitting
  would refuse. The pending verification's id and provider link are kept for the person who
  started it, so another of their devices can continue waiting for it.

Its own table and routes (not ``CaseView``), so the case view's shape is unchanged.
"""

from __future__ import annotations

import hashlib
import json
from typing import Annotated, Any

import msgspec
from litestar import Controller, get, patch
from litestar.params import FromPath, JSONBody
from msgspec import Meta
from piccolo.columns import BigInt, Serial, Text, Varchar
from piccolo.table import Table

from backend.cases.common import require_draft
from backend.identity.actor import Actor, ActorDep
from backend.lib.problems import ProblemError
from backend.platform import Platform, PlatformDep

FACE_PURPOSE = "submit"


class CaseProgress(Table, tablename="case_progress"):
    """One row per draft that has any progress recorded; times are epoch milliseconds."""

    id: Serial  # the primary key Piccolo adds (declared for the type checker)

    case_public_id = Varchar(length=32, unique=True)
    enterprise_checked_at = BigInt(null=True, default=None)
    form_confirmed_digest = Varchar(length=64, default="")
    form_confirmed_at = BigInt(null=True, default=None)
    face_person = Varchar(length=64, default="")
    face_verification_id = Varchar(length=64, default="")
    face_provider_url = Text(default="")
    updated_at = BigInt(default=0)


class FaceProgress(msgspec.Struct):
    status: str  # passed, pending, failed, expired
    verification_id: str = ""
    provider_url: str = ""


class ProgressView(msgspec.Struct):
    """Where the applicant's own task steps stand, as every device shows them."""

    enterprise_checked: bool
    form_confirmed: bool
    face: FaceProgress | None = None


class ProgressUpdate(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    """Mark steps done (or undone); ``face_verification_id`` records a started face check."""

    enterprise_checked: bool | None = None
    form_confirmed: bool | None = None
    face_verification_id: Annotated[str, Meta(max_length=64)] | None = None
    # where the person continues a pending check (from starting it); a web link only
    face_provider_url: Annotated[str, Meta(max_length=2000, pattern=r"^https?://")] | None = None


def form_digest(form_data: Any) -> str:
    """A digest of form data that does not depend on key order or on how it was stored."""
    value = json.loads(form_data) if isinstance(form_data, str) else form_data
    canonical = json.dumps(value or {}, sort_keys=True, ensure_ascii=False, separators=(",", ":"))
    return hashlib.sha256(canonical.encode()).hexdigest()


async def _stored(public_id: str) -> dict[str, Any] | None:
    return await CaseProgress.select().where(CaseProgress.case_public_id == public_id).first()


async def _face(platform: Platform, actor: Actor, public_id: str, stored: dict[str, Any] | None) -> FaceProgress | None:
    from backend.identity import face_verified_at
    from backend.identity.face import get_face_verification

    if await face_verified_at(platform, actor.id, FACE_PURPOSE, public_id) is not None:
        return FaceProgress(status="passed")
    if not stored or not stored["face_verification_id"] or stored["face_person"] != actor.id:
        return None
    try:
        found = await get_face_verification(platform, stored["face_verification_id"], actor.id)
    except ProblemError:
        return None
    # passed long ago no longer counts for submitting: show it as to be done again
    status = "expired" if found.status == "passed" else found.status
    return FaceProgress(status=status, verification_id=found.verification_id, provider_url=stored["face_provider_url"])


async def read_progress(platform: Platform, actor: Actor, public_id: str) -> ProgressView:
    """The draft's progress as ``actor`` sees it (404 for a case they may not see)."""
    row = await platform.cases.case_for(actor, public_id, "read")
    stored = await _stored(public_id)
    return ProgressView(
        enterprise_checked=bool(stored and stored["enterprise_checked_at"]),
        form_confirmed=bool(stored and stored["form_confirmed_digest"] == form_digest(row["form_data"])),
        face=await _face(platform, actor, public_id, stored),
    )


async def update_progress(platform: Platform, actor: Actor, public_id: str, update: ProgressUpdate) -> ProgressView:
    """Record steps of a draft; only a draft has task steps (409 ``case_not_editable`` after)."""
    row = await platform.cases.case_for(actor, public_id, "update")
    require_draft(row)
    now = platform.clock.now_ms()
    changes: dict[Any, Any] = {CaseProgress.updated_at: now}
    if update.enterprise_checked is not None:
        changes[CaseProgress.enterprise_checked_at] = now if update.enterprise_checked else None
    if update.form_confirmed is not None:
        changes[CaseProgress.form_confirmed_digest] = form_digest(row["form_data"]) if update.form_confirmed else ""
        changes[CaseProgress.form_confirmed_at] = now if update.form_confirmed else None
    if update.face_verification_id is not None:
        from backend.identity.face import get_face_verification

        if update.face_verification_id:  # the person's own verification for this case, or 404
            found = await get_face_verification(platform, update.face_verification_id, actor.id)
            if found.reference != public_id:
                raise ProblemError(
                    422, "verification_not_for_case", "该核验不属于此申请。 That check is for another case."
                )
        changes[CaseProgress.face_person] = actor.id if update.face_verification_id else ""
        changes[CaseProgress.face_verification_id] = update.face_verification_id
        url = update.face_provider_url or ""
        changes[CaseProgress.face_provider_url] = url if update.face_verification_id else ""
    if await _stored(public_id) is None:
        await CaseProgress.insert(CaseProgress(case_public_id=public_id)).on_conflict(action="DO NOTHING")
    await CaseProgress.update(changes).where(CaseProgress.case_public_id == public_id)
    return await read_progress(platform, actor, public_id)


class ProgressController(Controller):
    """The task list's own steps of a draft, the same on every device."""

    path = "/api/v1/cases/{case_id:str}/progress"
    tags = ["cases"]

    @get("/", summary="Which of the applicant's own steps are done (enterprise checked, form confirmed, face)")
    async def read(self, platform: PlatformDep, actor: ActorDep, case_id: FromPath[str]) -> ProgressView:
        return await read_progress(platform, actor, case_id)

    @patch("/", summary="Mark steps done; a confirmed form becomes unconfirmed when the form changes")
    async def update(
        self, platform: PlatformDep, actor: ActorDep, case_id: FromPath[str], data: JSONBody[ProgressUpdate]
    ) -> ProgressView:
        return await update_progress(platform, actor, case_id, data)


ROUTES: list[Any] = [ProgressController]
