"""Administration of the integration registry and the contact list (platform admins only)."""

from __future__ import annotations

from typing import Annotated, Literal

import msgspec
from litestar import Controller, Response, delete, get, patch, post
from litestar.params import FromPath, JSONBody, QueryParameter

from backend.cases.service import ActorDep
from backend.integrations import service
from backend.integrations.schemas import ContactFields, ContactView, IntegrationFields, IntegrationView
from backend.integrations.tables import Contact, Integration
from backend.lib.openapi import EXPORTS, OPT_FILE_MEDIA_TYPES
from backend.lib.problems import ProblemError
from backend.platform import PlatformDep

Format = Annotated[Literal["csv", "xlsx"], QueryParameter(name="format")]


def _admin(actor) -> None:
    if "admin" not in actor.roles:
        raise ProblemError(403, "forbidden", "仅平台管理员可以管理对接登记和联络清单。 Platform administrators only.")


def _download(content: bytes, media_type: str, filename: str) -> Response:
    from urllib.parse import quote

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
        _admin(actor)
        return [service.view(r) for r in await Integration.select().order_by(Integration.system)]

    @get(
        "/export",
        summary="Export the request forms as CSV or XLSX",
        media_type="application/octet-stream",
        opt={OPT_FILE_MEDIA_TYPES: EXPORTS},
    )
    async def export(self, actor: ActorDep, fmt: Format = "xlsx") -> Response:
        _admin(actor)
        return _download(*service.export(await Integration.select().order_by(Integration.system), "integrations", fmt))

    @patch("/{system:str}", summary="Change an integration record")
    async def change(
        self, platform: PlatformDep, actor: ActorDep, system: FromPath[str], data: JSONBody[IntegrationFields]
    ) -> IntegrationView:
        _admin(actor)
        rows = (
            await Integration.update(service.changes_of(Integration, data, platform.clock.now_ms()))
            .where(Integration.system == system)
            .returning(*Integration.all_columns())
        )
        if not rows:
            raise ProblemError(
                404, "integration_not_found", "没有该系统的对接登记。 No integration record for that system."
            )
        return service.view(rows[0])


class ContactController(Controller):
    """专班联络清单 — who to call for each matter and system."""

    path = "/api/v1/admin/contacts"
    tags = ["administration"]

    @get("/", summary="The contact list")
    async def list_all(self, actor: ActorDep) -> list[ContactView]:
        _admin(actor)
        return [ContactView(**r) for r in await Contact.select().order_by(Contact.matter, Contact.id)]

    @get(
        "/export",
        summary="Export the contact list as CSV or XLSX",
        media_type="application/octet-stream",
        opt={OPT_FILE_MEDIA_TYPES: EXPORTS},
    )
    async def export(self, actor: ActorDep, fmt: Format = "xlsx") -> Response:
        _admin(actor)
        return _download(*service.export(await Contact.select().order_by(Contact.matter, Contact.id), "contacts", fmt))

    @post("/", summary="Add a contact line")
    async def add(self, platform: PlatformDep, actor: ActorDep, data: JSONBody[ContactFields]) -> ContactView:
        _admin(actor)
        missing = [f for f in ("matter", "system", "responsible_unit") if getattr(data, f) is None]
        if missing:
            raise ProblemError(
                422,
                "missing_field",
                "请填写事项、业务系统和责任单位。 Matter, system and responsible unit are required.",
                field=missing[0],
            )
        rows = await Contact.insert(
            Contact(
                **{k: v for k, v in msgspec.structs.asdict(data).items() if v is not None},
                updated_at=platform.clock.now_ms(),
            )
        ).returning(*Contact.all_columns())
        return ContactView(**rows[0])

    @patch("/{contact_id:int}", summary="Change a contact line")
    async def change(
        self, platform: PlatformDep, actor: ActorDep, contact_id: FromPath[int], data: JSONBody[ContactFields]
    ) -> ContactView:
        _admin(actor)
        rows = (
            await Contact.update(service.changes_of(Contact, data, platform.clock.now_ms()))
            .where(Contact.id == contact_id)
            .returning(*Contact.all_columns())
        )
        if not rows:
            raise ProblemError(404, "contact_not_found", "没有该联络人记录。 No such contact.")
        return ContactView(**rows[0])

    @delete("/{contact_id:int}", summary="Remove a contact line")
    async def remove(self, actor: ActorDep, contact_id: FromPath[int]) -> None:
        _admin(actor)
        await Contact.delete().where(Contact.id == contact_id)


ROUTES = [IntegrationController, ContactController]
