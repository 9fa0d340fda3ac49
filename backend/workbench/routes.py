"""HTTP routes of the workbench, window assistance and administration (thin over the services)."""

from __future__ import annotations

from typing import Annotated, Any
from urllib.parse import quote

import msgspec
from litestar import Controller, Response, get, post, put
from litestar.datastructures import UploadFile
from litestar.enums import RequestEncodingType
from litestar.params import Body, FromPath, FromQuery, JSONBody

from backend.connectors.base import Correction
from backend.identity.actor import ActorDep, require_admin
from backend.lib.openapi import FILES, OPT_FILE_MEDIA_TYPES
from backend.platform import PlatformDep
from backend.workbench import admin, assisted
from backend.workbench.schemas import (
    AcceptRequest,
    ActionResult,
    AssistedStart,
    AssistedView,
    ModeChange,
    ModeView,
    RefusalRequest,
    StaffCorrection,
    WorkItem,
    WorkItemDetail,
)
from backend.workbench.service import Workbench


class ResultUpload(msgspec.Struct):
    file: UploadFile
    message: str = ""


def _download(filename: str, media_type: str, content: bytes) -> Response:
    return Response(
        content=content,
        media_type=media_type,
        headers={
            "Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}",
            "X-Content-Type-Options": "nosniff",
            "Cache-Control": "private, no-store",
        },
    )


def _wb(platform) -> Workbench:
    return Workbench(platform)


class WorkbenchController(Controller):
    """部门工作台 — the agency's items with SLA clocks; accept, correct, approve, refuse."""

    path = "/api/v1/workbench"
    tags = ["workbench"]

    @get("/items", summary="My agency's open items in my regions, most urgent first")
    async def items(
        self,
        platform: PlatformDep,
        actor: ActorDep,
        status: FromQuery[str | None] = None,
        include_closed: FromQuery[bool] = False,
    ) -> list[WorkItem]:
        return await _wb(platform).list_items(actor, status=status, include_closed=include_closed)

    @get("/items/{ref:str}", summary="One item: projected form, materials, earlier results (audited)")
    async def item(self, platform: PlatformDep, actor: ActorDep, ref: FromPath[str]) -> WorkItemDetail:
        return await _wb(platform).detail(actor, ref)

    @get(
        "/items/{ref:str}/materials/{material_id:int}",
        summary="Download a material of the item's case (audited)",
        media_type="application/octet-stream",
        opt={OPT_FILE_MEDIA_TYPES: FILES},
    )
    async def material(
        self, platform: PlatformDep, actor: ActorDep, ref: FromPath[str], material_id: FromPath[int]
    ) -> Response:
        return _download(*await _wb(platform).material(actor, ref, material_id))

    @get(
        "/items/{ref:str}/documents/{document_id:int}",
        summary="Download an earlier result document of the case (audited)",
        media_type="application/octet-stream",
        opt={OPT_FILE_MEDIA_TYPES: FILES},
    )
    async def document(
        self, platform: PlatformDep, actor: ActorDep, ref: FromPath[str], document_id: FromPath[int]
    ) -> Response:
        return _download(*await _wb(platform).document(actor, ref, document_id))

    @post("/items/{ref:str}/accept", status_code=200, summary="受理")
    async def accept(
        self, platform: PlatformDep, actor: ActorDep, ref: FromPath[str], data: JSONBody[AcceptRequest | None] = None
    ) -> ActionResult:
        outcome, item = await _wb(platform).accept(actor, ref, data.message if data else "")
        return ActionResult(outcome=outcome, item=item)

    @post("/items/{ref:str}/correction", status_code=200, summary="退回补正: pick fields and materials, add a message")
    async def correction(
        self, platform: PlatformDep, actor: ActorDep, ref: FromPath[str], data: JSONBody[StaffCorrection]
    ) -> ActionResult:
        picks = [Correction(kind=p.kind, name=p.name, message=p.message or data.message) for p in data.items]
        outcome, item = await _wb(platform).request_correction(actor, ref, picks, data.message)
        return ActionResult(outcome=outcome, item=item)

    @post(
        "/items/{ref:str}/approve", status_code=200, summary="办结 with the result document (PDF, checked by content)"
    )
    async def approve(
        self,
        platform: PlatformDep,
        actor: ActorDep,
        ref: FromPath[str],
        data: Annotated[ResultUpload, Body(media_type=RequestEncodingType.MULTI_PART)],
    ) -> ActionResult:
        content = await data.file.read()
        outcome, item = await _wb(platform).approve(
            actor, ref, data.file.filename or "result.pdf", content, data.message
        )
        return ActionResult(outcome=outcome, item=item)

    @post("/items/{ref:str}/refuse", status_code=200, summary="不予办理 with a reason")
    async def refuse(
        self, platform: PlatformDep, actor: ActorDep, ref: FromPath[str], data: JSONBody[RefusalRequest]
    ) -> ActionResult:
        outcome, item = await _wb(platform).refuse(actor, ref, data.reason, data.code)
        return ActionResult(outcome=outcome, item=item)


class AssistedController(Controller):
    """帮办代办 — window staff start an application with the visitor's consent, then hand it over."""

    path = "/api/v1/assisted"
    tags = ["window"]

    @post("/", summary="Start: the visitor's face verification (consent) begins")
    async def start(self, platform: PlatformDep, actor: ActorDep, data: JSONBody[AssistedStart]) -> AssistedView:
        return await assisted.start(platform, actor, data.uscc, data.visitor_id, data.visitor_name)

    @get("/{assisted_id:str}", summary="One assisted application")
    async def read(self, platform: PlatformDep, actor: ActorDep, assisted_id: FromPath[str]) -> AssistedView:
        return await assisted.get(platform, actor, assisted_id)

    @post(
        "/{assisted_id:str}/confirm",
        status_code=200,
        summary="After the visitor's face verification passed: create the draft as the visitor",
    )
    async def confirm(self, platform: PlatformDep, actor: ActorDep, assisted_id: FromPath[str]) -> AssistedView:
        return await assisted.confirm(platform, actor, assisted_id)

    @post(
        "/{assisted_id:str}/handoff",
        status_code=200,
        summary="Hand the case to the visitor's phone to sign (link / QR)",
    )
    async def handoff(self, platform: PlatformDep, actor: ActorDep, assisted_id: FromPath[str]) -> AssistedView:
        return await assisted.handoff(platform, actor, assisted_id)


class AdminController(Controller):
    """Administration: connector modes, dead letters, catalog versions, jurisdiction."""

    path = "/api/v1/admin"
    tags = ["administration"]

    @get("/connector-modes", summary="Each business system's connector mode (api | manual)")
    async def modes(self, actor: ActorDep) -> list[ModeView]:
        return await admin.list_modes(actor)

    @put("/connector-modes/{system:str}", summary="Switch a system to the manual workbench or back to its API")
    async def set_mode(
        self, platform: PlatformDep, actor: ActorDep, system: FromPath[str], data: JSONBody[ModeChange]
    ) -> ModeView:
        return await admin.set_mode(platform, actor, system, data.mode, data.note)

    @get("/dead-letters", summary="Items whose delivery failed and dead background jobs")
    async def dead_letters(self, actor: ActorDep) -> list[admin.DeadLetter]:
        return await admin.dead_letters(actor)

    @post(
        "/dead-letters/items/{ref:str}/redrive",
        status_code=200,
        summary="Re-drive an item whose delivery failed (and its dead send job)",
    )
    async def redrive_item(self, platform: PlatformDep, actor: ActorDep, ref: FromPath[str]) -> dict[str, str]:
        await admin.redrive_item(platform, actor, ref)
        return {"status": "queued"}

    @post("/jobs/{job_id:int}/redrive", status_code=200, summary="Send a dead job round again")
    async def redrive_job(self, platform: PlatformDep, actor: ActorDep, job_id: FromPath[int]) -> dict[str, str]:
        await admin.redrive_job(platform, actor, job_id)
        return {"status": "queued"}

    @get("/catalog/versions", summary="Catalog versions")
    async def versions(self, actor: ActorDep) -> list[dict[str, Any]]:
        require_admin(actor)
        return admin.catalog_versions()

    @get("/catalog/diff", summary="What changed between two catalog versions")
    async def diff(self, actor: ActorDep, base: FromQuery[str], other: FromQuery[str]) -> dict[str, Any]:
        require_admin(actor)
        return admin.catalog_diff(base, other)

    @get("/jurisdiction", summary="The deployment's jurisdiction (GB/T 2260 prefixes served and refused)")
    async def jurisdiction(self, actor: ActorDep) -> dict[str, Any]:
        require_admin(actor)
        return admin.jurisdiction()


ROUTES: list[Any] = [WorkbenchController, AssistedController, AdminController]
