"""HTTP routes of the case context: thin handlers over ``CaseService`` and ``Dispatcher``."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncGenerator
from typing import Annotated, Any

import msgspec
from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.channels import ChannelsPlugin
from litestar.datastructures import UploadFile
from litestar.di import NamedDependency
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, JSONBody, QueryParameter
from litestar.response import ServerSentEvent, ServerSentEventMessage

from backend.cases.common import event_types
from backend.cases.progress import ProgressController
from backend.cases.register_facts import RegisterFactsController
from backend.cases.schemas import (
    CaseCreate,
    CaseStatus,
    CaseSummary,
    CaseUpdate,
    CaseView,
    CorrectionSubmit,
    EventTypeView,
    MaterialView,
    Readiness,
)
from backend.connectors.base import BatchAnswer
from backend.identity.actor import ActorDep
from backend.identity.signing import SigningCreated, SigningStatus
from backend.lib.language import localize, request_locale
from backend.lib.openapi import FILES, OPT_FILE_MEDIA_TYPES, OPT_REQUIRED_HEADERS
from backend.lib.problems import ProblemError
from backend.platform import PlatformDep, live_updates_available

KEEPALIVE_SECONDS = 15.0


class MaterialUpload(msgspec.Struct):
    code: str
    file: UploadFile


class WithdrawRequest(msgspec.Struct, forbid_unknown_fields=True):
    reason: Annotated[str, msgspec.Meta(max_length=500)] = ""


class CallbackAnswer(msgspec.Struct):
    status: str


def _download(filename: str, media_type: str, content: bytes) -> Response:
    from urllib.parse import quote

    return Response(
        content=content,
        media_type=media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


def _readable_item(item: Any, locale: str) -> Any:
    """An item with its agency messages in ``locale`` (the same object when nothing changes)."""

    def each(entries: list[dict[str, Any]]) -> list[dict[str, Any]]:
        return [{**e, "message": localize(e["message"], locale)} if e.get("message") else e for e in entries]

    message = localize(item.message, locale) or ""
    reasons, corrections = each(item.reasons), each(item.corrections)
    if message == item.message and reasons == item.reasons and corrections == item.corrections:
        return item
    return msgspec.structs.replace(item, message=message, reasons=reasons, corrections=corrections)


def _readable(request: Request, value: Any) -> Any:
    """A case view or a pre-check with every message in the reader's language (``Accept-Language``)."""
    locale = request_locale(request)
    if isinstance(value, CaseView):
        for p in value.plan_problems:
            p["message"] = localize(p.get("message"), locale)
        # agencies' messages (reasons, corrections) may come in both languages; a submitted case's
        # view is shared between readers (cached), so it is copied, never changed in place
        items = [_readable_item(i, locale) for i in value.items]
        if any(a is not b for a, b in zip(items, value.items, strict=True)):
            value = msgspec.structs.replace(value, items=items)
    elif isinstance(value, Readiness):
        for m in value.missing:
            m.message = localize(m.message, locale) or m.code
    return value


class CaseController(Controller):
    """一次提交、一网查看 — drafts, submission and every result in one place."""

    path = "/api/v1/cases"
    tags = ["cases"]

    @post("/", summary="Start a draft for an enterprise (prefilled from the registration record)")
    async def create(
        self, request: Request, platform: PlatformDep, actor: ActorDep, data: JSONBody[CaseCreate]
    ) -> CaseView:
        return _readable(request, await platform.cases.create_draft(actor, data.uscc, data.channel))

    @get("/", summary="My cases, or the case with a given number (`?number=`, digits alone accepted) if I may see it")
    async def mine(
        self,
        platform: PlatformDep,
        actor: ActorDep,
        number: Annotated[str | None, QueryParameter(max_length=40)] = None,
    ) -> list[CaseSummary]:
        if number is not None:
            return await platform.cases.find_by_number(actor, number)
        return await platform.cases.list_mine(actor)

    @get("/{case_id:str}", summary="One case: plan, items, results, materials and timeline")
    async def read(
        self, request: Request, platform: PlatformDep, actor: ActorDep, case_id: FromPath[str]
    ) -> Response[CaseView]:
        locale = request_locale(request)
        content = await platform.cases.view_json(actor, case_id, locale, lambda view: _readable(request, view))
        return Response(content=content, media_type="application/json", headers={"Vary": "Accept-Language"})

    @get(
        "/{case_id:str}/status",
        summary=(
            "Where a case stands (status and each item's): small and fast, for polling; "
            "at most `STATUS_CACHE_SECONDS` behind"
        ),
    )
    async def status(self, platform: PlatformDep, actor: ActorDep, case_id: FromPath[str]) -> CaseStatus:
        return await platform.cases.status(actor, case_id)

    @patch("/{case_id:str}", summary="Save answers and form data (send `version` to detect concurrent edits)")
    async def update(
        self,
        request: Request,
        platform: PlatformDep,
        actor: ActorDep,
        case_id: FromPath[str],
        data: JSONBody[CaseUpdate],
    ) -> CaseView:
        view = await platform.cases.update_draft(
            actor, case_id, answers=data.answers, form_data=data.form_data, version=data.version
        )
        return _readable(request, view)

    @post(
        "/{case_id:str}/precheck",
        status_code=200,
        summary="注销预检: what blocks submission, asked of every applicable agency",
    )
    async def precheck(
        self, request: Request, platform: PlatformDep, actor: ActorDep, case_id: FromPath[str]
    ) -> Readiness:
        return _readable(request, await platform.cases.precheck(actor, case_id))

    @post("/{case_id:str}/materials", summary="Upload a material (PDF, JPEG or PNG; checked by content)")
    async def upload(
        self,
        platform: PlatformDep,
        actor: ActorDep,
        case_id: FromPath[str],
        data: Annotated[MaterialUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> MaterialView:
        content = await data.file.read()
        return await platform.cases.add_material(actor, case_id, data.code, data.file.filename or "upload", content)

    @delete("/{case_id:str}/materials/{material_id:int}", summary="Remove an uploaded material from a draft")
    async def remove_material(
        self, platform: PlatformDep, actor: ActorDep, case_id: FromPath[str], material_id: FromPath[int]
    ) -> None:
        await platform.cases.remove_material(actor, case_id, material_id)

    @get(
        "/{case_id:str}/materials/{material_id:int}",
        summary="Download an uploaded material",
        media_type="application/octet-stream",
        opt={OPT_FILE_MEDIA_TYPES: FILES},
    )
    async def material(
        self, platform: PlatformDep, actor: ActorDep, case_id: FromPath[str], material_id: FromPath[int]
    ) -> Response:
        return _download(*await platform.cases.material_content(actor, case_id, material_id))

    @get(
        "/{case_id:str}/documents/{document_id:int}",
        summary="Download a result document (清税证明, 准予注销登记通知书 ...)",
        media_type="application/octet-stream",
        opt={OPT_FILE_MEDIA_TYPES: FILES},
    )
    async def document(
        self, platform: PlatformDep, actor: ActorDep, case_id: FromPath[str], document_id: FromPath[int]
    ) -> Response:
        return _download(*await platform.cases.document_content(actor, case_id, document_id))

    @post(
        "/{case_id:str}/signatures",
        status_code=201,
        summary="Send the merged application for signing (one link per required signer)",
    )
    async def start_signing(self, platform: PlatformDep, actor: ActorDep, case_id: FromPath[str]) -> SigningCreated:
        return await platform.cases.start_signing(actor, case_id)

    @get("/{case_id:str}/signatures", summary="Who has signed the current application")
    async def signing(self, platform: PlatformDep, actor: ActorDep, case_id: FromPath[str]) -> SigningStatus:
        return await platform.cases.signing(actor, case_id)

    @post(
        "/{case_id:str}/submit",
        status_code=200,
        summary="一次提交: submit once (requires an Idempotency-Key header)",
        opt={
            OPT_REQUIRED_HEADERS: {
                "Idempotency-Key": "幂等键：同一次提交重试时保持不变，平台只办理一次。"
                " The same key on every retry of one submission: the platform acts once."
            }
        },
    )
    async def submit(
        self, request: Request, platform: PlatformDep, actor: ActorDep, case_id: FromPath[str]
    ) -> CaseView:
        return _readable(
            request, await platform.cases.submit(actor, case_id, request.headers.get("idempotency-key", ""))
        )

    @post(
        "/{case_id:str}/items/{code:str}/correction",
        status_code=200,
        summary="补正: correct one item and send it again",
    )
    async def correction(
        self,
        request: Request,
        platform: PlatformDep,
        actor: ActorDep,
        case_id: FromPath[str],
        code: FromPath[str],
        data: JSONBody[CorrectionSubmit],
    ) -> CaseView:
        return _readable(request, await platform.cases.correct(actor, case_id, code, data.form_data, data.message))

    @post("/{case_id:str}/withdraw", status_code=200, summary="撤回: withdraw before any agency has accepted an item")
    async def withdraw(
        self,
        request: Request,
        platform: PlatformDep,
        actor: ActorDep,
        case_id: FromPath[str],
        data: JSONBody[WithdrawRequest | None] = None,
    ) -> CaseView:
        return _readable(request, await platform.cases.withdraw(actor, case_id, data.reason if data else ""))

    @get("/{case_id:str}/events", summary="Live updates of a case (server-sent events)", media_type="text/event-stream")
    async def events(
        self, platform: PlatformDep, actor: ActorDep, channels: NamedDependency[ChannelsPlugin], case_id: FromPath[str]
    ) -> ServerSentEvent:
        _, access = await platform.cases.case_access(actor, case_id, "events")  # refuses what the actor may not see
        if not live_updates_available(channels):  # Redis down: a 503 makes EventSource clients poll instead
            raise ProblemError(
                503,
                "live_updates_unavailable",
                "实时更新暂不可用，请刷新查看。 Live updates are unavailable; please poll.",
                headers={"Retry-After": "10"},
            )

        async def stream() -> AsyncGenerator[ServerSentEventMessage, None]:
            async with channels.start_subscription([f"case:{case_id}"]) as subscriber:
                view = await platform.cases.view(
                    actor, case_id, with_plan=False
                )  # after subscribing: no change falls in between
                refs = {i.ref for i in view.items}  # a mandate for some items: only their events
                yield ServerSentEventMessage(
                    event="snapshot",
                    data=msgspec.json.encode(
                        {
                            "status": view.status,
                            "items": [{"ref": i.ref, "status": i.status} for i in view.items],
                            "seq": view.timeline[-1].seq if view.timeline else 0,
                        }
                    ).decode(),
                )
                events = subscriber.iter_events()
                while True:
                    try:
                        message = await asyncio.wait_for(events.__anext__(), timeout=KEEPALIVE_SECONDS)
                    except TimeoutError:
                        if not live_updates_available(channels):
                            return  # the client reconnects, gets 503 and polls until Redis is back
                        yield ServerSentEventMessage(comment="keep-alive")
                        continue
                    except StopAsyncIteration:
                        return
                    event = msgspec.json.decode(message)
                    if access.items is not None and event.get("item_ref") not in refs:
                        continue
                    yield ServerSentEventMessage(
                        event=event.get("type", "update"), data=message.decode(), id=str(event.get("seq", ""))
                    )

        return ServerSentEvent(stream(), headers={"Cache-Control": "no-store", "X-Accel-Buffering": "no"})


@post(
    "/api/v1/callbacks/{system:str}",
    status_code=200,
    tags=["integration"],
    summary="Agency callback: one event, or a batch of events of any cases (signed JWS; idempotent on event_id)",
)
async def agency_callback(
    request: Request, platform: PlatformDep, system: FromPath[str]
) -> CallbackAnswer | BatchAnswer:
    body = await request.body()
    status = await platform.dispatcher.receive_callback(system, dict(request.headers), body)
    return status if isinstance(status, BatchAnswer) else CallbackAnswer(status=status)


class ObjectionRequest(msgspec.Struct, forbid_unknown_fields=True):
    message: Annotated[str, msgspec.Meta(min_length=1, max_length=500)]


@post(
    "/api/v1/cases/{case_id:str}/objections",
    status_code=200,
    tags=["cases"],
    summary="异议: object during the publicity period (staff of an agency with an item in the case, in region)",
)
async def object_to_case(
    platform: PlatformDep, actor: ActorDep, case_id: FromPath[str], data: JSONBody[ObjectionRequest]
) -> CaseView:
    return await platform.cases.object(actor, case_id, data.message)  # who may: CaseService._authorize


@post(
    "/sandbox/cases/{case_id:str}/notice/end",
    status_code=200,
    tags=["sandbox"],
    summary="Test environment: end a case's publicity period now",
)
async def end_notice_now(platform: PlatformDep, case_id: FromPath[str]) -> CallbackAnswer:
    if not await platform.cases.end_case_notice_now(case_id):
        raise ProblemError(409, "no_open_notice", "该申请不在公示期内。 The case has no open publicity period.")
    return CallbackAnswer(status="ended")


@get(
    "/api/v1/event-types",
    tags=["cases"],
    summary="Every timeline event type and what the applicant's timeline says of it",
)
async def timeline_event_types() -> list[EventTypeView]:
    """Live updates are named by these types; ``label`` ("{item}": the matter's name) is what the
    applicant's timeline shows, and a type without one is not shown to applicants."""
    return event_types()


ROUTES: list[Any] = [
    CaseController,
    ProgressController,
    RegisterFactsController,
    agency_callback,
    object_to_case,
    timeline_event_types,
]
SANDBOX_ROUTES: list[Any] = [end_notice_now]
