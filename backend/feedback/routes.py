"""HTTP routes of 测试问题反馈 (thin over ``Feedback``)."""

from __future__ import annotations

from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, get, post
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody

from backend.feedback.consultation import CommentView, Consultations, ConsultationView
from backend.feedback.schemas import ReporterNote, ReportFiling, ReportView, StatusMove, Triage
from backend.feedback.service import SEVERITIES, STATUSES, Feedback
from backend.identity.actor import ActorDep
from backend.lib.openapi import OPT_FILE_MEDIA_TYPES
from backend.platform import PlatformDep


class FeedbackController(Controller):
    """测试问题反馈 — trial staff report problems; the platform team triages and fixes; the reporter confirms."""

    path = "/api/v1/feedback"
    tags = ["feedback"]

    @get("/reports", summary="Problem reports I may see (my agency's; administrators: all)")
    async def reports(
        self,
        platform: PlatformDep,
        actor: ActorDep,
        status: FromQuery[str | None] = None,
        agency: FromQuery[str | None] = None,
    ) -> list[ReportView]:
        return await Feedback(platform).list(actor, status=status, agency=agency)

    @post(
        "/reports",
        summary="File a problem: page, step, expected, actual, optional PNG/JPEG screenshot",
        description="An optional Idempotency-Key header makes a retry return the first report.",
    )
    async def file(
        self,
        platform: PlatformDep,
        actor: ActorDep,
        request: Request,
        data: Annotated[ReportFiling, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> ReportView:
        content = await data.screenshot.read() if data.screenshot is not None else None
        return await Feedback(platform).file(
            actor,
            data.page,
            data.step,
            data.expected,
            data.actual,
            content or None,
            idempotency_key=request.headers.get("idempotency-key", ""),
        )

    @get("/stats", summary="Counts by agency and status")
    async def stats(self, platform: PlatformDep, actor: ActorDep) -> dict[str, Any]:
        return {**await Feedback(platform).stats(actor), "statuses": list(STATUSES), "severities": list(SEVERITIES)}

    @get("/reports/{report_id:str}", summary="One report with its history")
    async def report(self, platform: PlatformDep, actor: ActorDep, report_id: FromPath[str]) -> ReportView:
        return await Feedback(platform).get(actor, report_id)

    @get(
        "/reports/{report_id:str}/screenshot",
        summary="The report's screenshot",
        media_type="application/octet-stream",
        opt={OPT_FILE_MEDIA_TYPES: ("image/png", "image/jpeg")},
    )
    async def screenshot(self, platform: PlatformDep, actor: ActorDep, report_id: FromPath[str]) -> Response:
        media_type, content = await Feedback(platform).screenshot(actor, report_id)
        return Response(
            content=content,
            media_type=media_type,
            headers={"X-Content-Type-Options": "nosniff", "Cache-Control": "private, no-store"},
        )

    @post("/reports/{report_id:str}/triage", status_code=200, summary="Triage: severity and assignee (platform team)")
    async def triage(
        self, platform: PlatformDep, actor: ActorDep, report_id: FromPath[str], data: JSONBody[Triage]
    ) -> ReportView:
        return await Feedback(platform).triage(actor, report_id, data.severity, data.assignee, data.note)

    @post("/reports/{report_id:str}/status", status_code=200, summary="Progress: in_progress, fixed (platform team)")
    async def move(
        self, platform: PlatformDep, actor: ActorDep, report_id: FromPath[str], data: JSONBody[StatusMove]
    ) -> ReportView:
        return await Feedback(platform).move(actor, report_id, data.status, data.note)

    @post("/reports/{report_id:str}/confirm", status_code=200, summary="The reporter confirms the fix")
    async def confirm(
        self, platform: PlatformDep, actor: ActorDep, report_id: FromPath[str], data: JSONBody[ReporterNote]
    ) -> ReportView:
        return await Feedback(platform).confirm(actor, report_id, data.note)

    @post("/reports/{report_id:str}/reopen", status_code=200, summary="The reporter reopens it (reason required)")
    async def reopen(
        self, platform: PlatformDep, actor: ActorDep, report_id: FromPath[str], data: JSONBody[ReporterNote]
    ) -> ReportView:
        return await Feedback(platform).reopen(actor, report_id, data.note)


class OpenConsultation(msgspec.Struct, forbid_unknown_fields=True):
    version: str = ""
    note: str = ""


class NewComment(msgspec.Struct, forbid_unknown_fields=True):
    item_code: str = ""
    section: str = ""
    body: str = ""


class NewReply(msgspec.Struct, forbid_unknown_fields=True):
    body: str = ""


class Resolution(msgspec.Struct, forbid_unknown_fields=True):
    resolution: str = ""
    note: str = ""


class ConsultationController(Controller):
    """征求意见 — a draft catalog version's guides opened to the agencies for comments."""

    path = "/api/v1/consultations"
    tags = ["feedback"]

    @get("/", summary="Consultations with their comment counts")
    async def consultations(self, platform: PlatformDep, actor: ActorDep) -> list[ConsultationView]:
        return await Consultations(platform).list(actor)

    @post("/", summary="Open a catalog version to the agencies' comments (administrators)")
    async def open(self, platform: PlatformDep, actor: ActorDep, data: JSONBody[OpenConsultation]) -> ConsultationView:
        return await Consultations(platform).open(actor, data.version, data.note)

    @get("/{version:str}", summary="One consultation: items, sections and every comment thread")
    async def consultation(self, platform: PlatformDep, actor: ActorDep, version: FromPath[str]) -> ConsultationView:
        return await Consultations(platform).get(actor, version)

    @post("/{version:str}/comments", summary="Comment on one item's guide section")
    async def comment(
        self, platform: PlatformDep, actor: ActorDep, version: FromPath[str], data: JSONBody[NewComment]
    ) -> CommentView:
        return await Consultations(platform).comment(actor, version, data.item_code, data.section, data.body)

    @post("/{version:str}/comments/{comment_id:str}/replies", summary="Reply in a comment's thread")
    async def reply(
        self,
        platform: PlatformDep,
        actor: ActorDep,
        version: FromPath[str],
        comment_id: FromPath[str],
        data: JSONBody[NewReply],
    ) -> CommentView:
        return await Consultations(platform).reply(actor, version, comment_id, data.body)

    @post(
        "/{version:str}/comments/{comment_id:str}/resolution",
        status_code=200,
        summary="Resolve a comment: adopted, partly or declined, with a reason (administrators)",
    )
    async def resolve(
        self,
        platform: PlatformDep,
        actor: ActorDep,
        version: FromPath[str],
        comment_id: FromPath[str],
        data: JSONBody[Resolution],
    ) -> CommentView:
        return await Consultations(platform).resolve(actor, version, comment_id, data.resolution, data.note)


ROUTES: list[Any] = [FeedbackController, ConsultationController]
