"""征求意见: a draft catalog version is opened to the agencies for comments on its guides (work plan,
标准重塑: 组织征求办事指南意见). Comments name an item and a guide section; the platform team and
agencies reply; an administrator resolves each (adopted, partly, declined). Publication
(``backend.administration.publication``) asks :func:`check_publishable`: a consulted version is
published only when every comment is resolved, or when an administrator overrides with a reason.
"""

from __future__ import annotations

import uuid
from typing import Any

import msgspec
from piccolo.columns.base import Column

from backend.catalog import available_versions, get_catalog
from backend.db import writing_transaction
from backend.feedback.service import REPORTER_ROLES, agency_name, agency_of
from backend.feedback.tables import Consultation, ConsultationComment, ConsultationReply
from backend.identity.actor import Actor, require_admin
from backend.lib.problems import ProblemError

SECTIONS = ("conditions", "materials", "procedure", "time_limit", "fees", "basis", "venue", "other")
"""办事指南 elements a comment may address: 办理条件, 申请材料, 办理流程, 办理时限, 收费, 设定依据, 办理地点, 其他."""
RESOLUTIONS = ("adopted", "partly", "declined")
MAX_BODY = 4000


class ReplyView(msgspec.Struct):
    author_id: str
    author_name: str
    agency: str
    body: str
    at: int


class CommentView(msgspec.Struct):
    id: str
    version: str
    item_code: str
    section: str
    agency: str
    agency_name: dict[str, str]
    author_id: str
    author_name: str
    body: str
    status: str
    resolution: str
    resolution_note: str
    resolved_by: str
    resolved_at: int | None
    created_at: int
    replies: list[ReplyView] = []


class ConsultationView(msgspec.Struct):
    version: str
    status: str
    note: str
    opened_by: str
    opened_at: int
    closed_at: int | None
    override_reason: str
    comments: int
    unresolved: int
    items: list[dict[str, Any]] = []
    sections: list[str] = []
    threads: list[CommentView] = []


def _staff(actor: Actor) -> None:
    if actor.kind == "system" or not (REPORTER_ROLES & actor.roles) or not agency_of(actor):
        raise ProblemError(
            403, "consultation_staff_only", "只有参与征求意见的单位可以查看和发表意见。 Participating agencies only."
        )


def _body(value: str, field: str = "body") -> str:
    value = (value or "").strip()
    if not value:
        raise ProblemError(422, "feedback_field_required", "请填写此项。 This field is required.", field=field)
    if len(value) > MAX_BODY:
        raise ProblemError(422, "feedback_field_too_long", f"不能超过 {MAX_BODY} 个字。 Too long.", field=field)
    return value


def _not_found() -> ProblemError:
    return ProblemError(404, "consultation_not_found", "该目录版本没有征求意见。 No consultation on this version.")


def _items(version: str) -> list[dict[str, Any]]:

    return [
        {"code": code, "name": {"zh-CN": item.name.zh, "en": item.name.en}}
        for code, item in get_catalog(version).items.items()
    ]


def _comment(row: dict[str, Any], replies: list[dict[str, Any]] | None = None) -> CommentView:
    return CommentView(
        id=row["public_id"],
        version=row["version"],
        item_code=row["item_code"],
        section=row["section"],
        agency=row["agency"],
        agency_name=agency_name(row["agency"]),
        author_id=row["author_id"],
        author_name=row["author_name"],
        body=row["body"],
        status=row["status"],
        resolution=row["resolution"],
        resolution_note=row["resolution_note"],
        resolved_by=row["resolved_by"],
        resolved_at=row["resolved_at"],
        created_at=row["created_at"],
        replies=[
            ReplyView(
                author_id=r["author_id"], author_name=r["author_name"], agency=r["agency"], body=r["body"], at=r["at"]
            )
            for r in replies or []
        ],
    )


async def _counts(version: str) -> tuple[int, int]:
    rows = await ConsultationComment.select(ConsultationComment.status).where(ConsultationComment.version == version)
    return len(rows), sum(1 for r in rows if r["status"] != "resolved")


async def _view(row: dict[str, Any], threads: list[CommentView] | None = None) -> ConsultationView:
    total, unresolved = await _counts(row["version"])
    return ConsultationView(
        version=row["version"],
        status=row["status"],
        note=row["note"],
        opened_by=row["opened_by"],
        opened_at=row["opened_at"],
        closed_at=row["closed_at"],
        override_reason=row["override_reason"],
        comments=total,
        unresolved=unresolved,
        items=_items(row["version"]) if threads is not None else [],
        sections=list(SECTIONS) if threads is not None else [],
        threads=threads or [],
    )


class Consultations:
    """征求意见 over the platform (clock, engine)."""

    def __init__(self, platform) -> None:
        self.platform = platform

    async def _open_row(self, version: str) -> dict[str, Any]:
        row = await Consultation.select().where(Consultation.version == version).first()
        if row is None:
            raise _not_found()
        return row

    async def open(self, actor: Actor, version: str, note: str = "") -> ConsultationView:
        """Open ``version`` (a shipped catalog version) to the agencies' comments."""

        require_admin(actor)
        if version not in available_versions():
            get_catalog(version, field="version")  # 422 unknown_catalog_version naming the field
        async with writing_transaction(self.platform.engine):
            if await Consultation.exists().where(Consultation.version == version):
                raise ProblemError(
                    409, "consultation_exists", "该目录版本已经征求过意见。 This version is already under consultation."
                )
            await Consultation.insert(
                Consultation(
                    version=version,
                    status="open",
                    note=(note or "").strip()[:MAX_BODY],
                    opened_by=actor.id,
                    opened_at=self.platform.clock.now_ms(),
                )
            )
        return await self.get(actor, version)

    async def list(self, actor: Actor) -> list[ConsultationView]:
        """Every consultation, newest first, with its comment counts."""
        _staff(actor)
        return [await _view(r) for r in await Consultation.select().order_by(Consultation.opened_at, ascending=False)]

    async def get(self, actor: Actor, version: str) -> ConsultationView:
        """One consultation with the items, the sections and every comment thread."""
        _staff(actor)
        row = await self._open_row(version)
        comments = (
            await ConsultationComment.select()
            .where(ConsultationComment.version == version)
            .order_by(ConsultationComment.id)
        )
        ids = [c["public_id"] for c in comments]
        replies = (
            await ConsultationReply.select()
            .where(ConsultationReply.comment_id.is_in(ids))
            .order_by(ConsultationReply.id)
            if ids
            else []
        )
        by_comment: dict[str, list[dict[str, Any]]] = {}
        for r in replies:
            by_comment.setdefault(r["comment_id"], []).append(r)
        return await _view(row, [_comment(c, by_comment.get(c["public_id"])) for c in comments])

    async def comment(self, actor: Actor, version: str, item_code: str, section: str, body: str) -> CommentView:
        """An agency's comment on one item's guide section (only while the consultation is open)."""
        _staff(actor)
        row = await self._open_row(version)
        if row["status"] != "open":
            raise ProblemError(409, "consultation_closed", "征求意见已结束。 The consultation is closed.")
        if item_code not in {i["code"] for i in _items(version)}:
            raise ProblemError(
                422, "unknown_item", "该目录版本中没有此事项。 No such item in this version.", field="item_code"
            )
        if section not in SECTIONS:
            raise ProblemError(422, "unknown_section", "未知的办事指南章节。 Unknown guide section.", field="section")
        body = _body(body)
        public_id = uuid.uuid4().hex
        async with writing_transaction(self.platform.engine):
            await ConsultationComment.insert(
                ConsultationComment(
                    public_id=public_id,
                    version=version,
                    item_code=item_code,
                    section=section,
                    agency=agency_of(actor),
                    author_id=actor.id,
                    author_name=actor.name,
                    body=body,
                    status="open",
                    created_at=self.platform.clock.now_ms(),
                )
            )
        return await self._comment_view(version, public_id)

    async def _comment_row(self, version: str, comment_id: str) -> dict[str, Any]:
        row = (
            await ConsultationComment.select()
            .where((ConsultationComment.public_id == comment_id) & (ConsultationComment.version == version))
            .first()
        )
        if row is None:
            raise ProblemError(404, "comment_not_found", "未找到该意见。 No such comment.")
        return row

    async def _comment_view(self, version: str, comment_id: str) -> CommentView:
        row = await self._comment_row(version, comment_id)
        replies = (
            await ConsultationReply.select()
            .where(ConsultationReply.comment_id == comment_id)
            .order_by(ConsultationReply.id)
        )
        return _comment(row, replies)

    async def reply(self, actor: Actor, version: str, comment_id: str, body: str) -> CommentView:
        """Reply in a comment's thread (while the consultation is open)."""
        _staff(actor)
        consultation = await self._open_row(version)
        await self._comment_row(version, comment_id)
        if consultation["status"] != "open":
            raise ProblemError(409, "consultation_closed", "征求意见已结束。 The consultation is closed.")
        body = _body(body)
        async with writing_transaction(self.platform.engine):
            await ConsultationReply.insert(
                ConsultationReply(
                    comment_id=comment_id,
                    author_id=actor.id,
                    author_name=actor.name,
                    agency=agency_of(actor),
                    body=body,
                    at=self.platform.clock.now_ms(),
                )
            )
        return await self._comment_view(version, comment_id)

    async def resolve(self, actor: Actor, version: str, comment_id: str, resolution: str, note: str) -> CommentView:
        """An administrator's resolution of a comment: adopted, partly adopted or declined, with a reason."""
        require_admin(actor)
        await self._open_row(version)
        row = await self._comment_row(version, comment_id)
        if resolution not in RESOLUTIONS:
            raise ProblemError(422, "unknown_resolution", "未知的处理结果。 Unknown resolution.", field="resolution")
        note = _body(note, "note")
        if row["status"] == "resolved":
            raise ProblemError(409, "comment_resolved", "该意见已处理。 This comment is already resolved.")
        async with writing_transaction(self.platform.engine):
            await ConsultationComment.update(
                {
                    "status": "resolved",
                    "resolution": resolution,
                    "resolution_note": note,
                    "resolved_by": actor.id,
                    "resolved_at": self.platform.clock.now_ms(),
                }
            ).where((ConsultationComment.public_id == comment_id) & (ConsultationComment.status == "open"))
        return await self._comment_view(version, comment_id)


async def check_publishable(platform, actor: Actor, version: str, override_reason: str = "") -> None:
    """Called by publication inside its transaction: refuse (409 ``unresolved_comments``) to publish a
    consulted version with unresolved comments unless an administrator gives a reason; close the
    consultation and record the override."""
    row = await Consultation.select().where(Consultation.version == version).first()
    if row is None:
        return  # never consulted: nothing to wait for
    _total, unresolved = await _counts(version)
    reason = (override_reason or "").strip()
    if unresolved and not reason:
        raise ProblemError(
            409,
            "unresolved_comments",
            f"还有 {unresolved} 条意见未处理；处理完毕或说明理由后方可发布。"
            f" {unresolved} comments are unresolved: resolve them or give a reason to publish anyway.",
        )
    if len(reason) > MAX_BODY:
        raise ProblemError(
            422, "feedback_field_too_long", "理由过长。 The reason is too long.", field="override_reason"
        )
    changes: dict[Column | str, Any] = {"status": "closed", "closed_at": platform.clock.now_ms()}
    if unresolved:
        changes |= {"override_reason": reason, "overridden_by": actor.id}
    await Consultation.update(changes).where(Consultation.version == version)
