"""Administration of the integration registry and the contact list (platform admins only)."""

from __future__ import annotations

from typing import Annotated, Literal
from urllib.parse import quote

from litestar import Controller, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from backend.identity.actor import ActorDep, require_admin
from backend.integrations import service
from backend.integrations.schemas import ContactFields, ContactView, IntegrationFields, IntegrationView
from backend.lib.openapi import EXPORTS, OPT_FILE_MEDIA_TYPES
from backend.platform import PlatformDep

Format = Annotated[Literal["csv", "xlsx"], QueryParameter(name="format")]


PLATFORM_ADMINS_ONLY = "仅平台管理员可以管理对接登记和联络清单。 Platform administrators only."


def _download(content: bytes, media_type: str, filename: str) -> Response:
    return Response(
        content=content,
        media_type=media_type,
        headers={"Content-Disposition": f"attachment; filename*=UTF-8''{quote(filename)}"},
    )


class IntegrationController(Controller):
    """系统对接需求登记 — one record per business system."""

    path = "/api/v1/admin/integrations"
    tags = ["administration"]

    @get("/", summary="Integration records (the ministry request form per system)")
    async def list_all(self, actor: ActorDep) -> list[IntegrationView]:
        require_admin(actor, PLATFORM_ADMINS_ONLY)
        return await service.integrations()

    @get(
        "/export",
        summary="Export the request forms as CSV or XLSX",
        media_type="application/octet-stream",
        opt={OPT_FILE_MEDIA_TYPES: EXPORTS},
    )
    async def export(self, actor: ActorDep, fmt: Format = "xlsx") -> Response:
        require_admin(actor, PLATFORM_ADMINS_ONLY)
        return _download(*await service.export_integrations(fmt))

    @patch("/{system:str}", summary="Change an integration record")
    async def change(
        self, platform: PlatformDep, actor: ActorDep, system: FromPath[str], data: JSONBody[IntegrationFields]
    ) -> IntegrationView:
        require_admin(actor, PLATFORM_ADMINS_ONLY)
        return await service.change_integration(system, data, platform.clock.now_ms())


class ContactController(Controller):
    """专班联络清单 — who to call for each matter and system."""

    path = "/api/v1/admin/contacts"
    tags = ["administration"]

    @get("/", summary="The contact list")
    async def list_all(self, actor: ActorDep) -> list[ContactView]:
        require_admin(actor, PLATFORM_ADMINS_ONLY)
        return await service.contacts()

    @get(
        "/export",
        summary="Export the contact list as CSV or XLSX",
        media_type="application/octet-stream",
        opt={OPT_FILE_MEDIA_TYPES: EXPORTS},
    )
    async def export(self, actor: ActorDep, fmt: Format = "xlsx") -> Response:
        require_admin(actor, PLATFORM_ADMINS_ONLY)
        return _download(*await service.export_contacts(fmt))

    @post("/", summary="Add a contact line")
    async def add(self, platform: PlatformDep, actor: ActorDep, data: JSONBody[ContactFields]) -> ContactView:
        require_admin(actor, PLATFORM_ADMINS_ONLY)
        return await service.add_contact(data, platform.clock.now_ms())

    @patch("/{contact_id:int}", summary="Change a contact line")
    async def change(
        self, platform: PlatformDep, actor: ActorDep, contact_id: FromPath[int], data: JSONBody[ContactFields]
    ) -> ContactView:
        require_admin(actor, PLATFORM_ADMINS_ONLY)
        return await service.change_contact(contact_id, data, platform.clock.now_ms())

    @delete("/{contact_id:int}", summary="Remove a contact line")
    async def remove(self, actor: ActorDep, contact_id: FromPath[int]) -> None:
        require_admin(actor, PLATFORM_ADMINS_ONLY)
        await service.remove_contact(contact_id)


ROUTES = [IntegrationController, ContactController]
