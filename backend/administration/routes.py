"""HTTP routes of administration: catalog publication, and users and roles (administrators only)."""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, get, patch, post
from litestar.params import FromPath, FromQuery, JSONBody

from backend.administration import holidays, publication, staff
from backend.administration.publication import PublicationState, PublicationView
from backend.administration.staff import StaffChange, StaffInput, StaffView
from backend.identity.actor import ActorDep
from backend.platform import PlatformDep


class PublishRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    version: str = ""  # a missing version is answered like an unknown one: 422 naming the field
    note: str = ""
    override_reason: str = ""  # publish over unresolved 征求意见 comments (recorded on the consultation)


class RollbackRequest(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    note: str = ""


class CatalogPublicationController(Controller):
    """事项目录发布 — which catalog version new drafts use; publish and roll back."""

    path = "/api/v1/admin/catalog"
    tags = ["administration"]

    @get("/publications", summary="Catalog versions with their publication history and which one is current")
    async def publications(self, platform: PlatformDep, actor: ActorDep) -> PublicationState:
        return await publication.state(platform, actor)

    @post(
        "/publications",
        status_code=201,
        summary="Publish a catalog version: new drafts use it (existing cases keep theirs)",
    )
    async def publish(self, platform: PlatformDep, actor: ActorDep, data: JSONBody[PublishRequest]) -> PublicationView:
        return await publication.publish(platform, actor, data.version, data.note, data.override_reason)

    @post(
        "/rollback", status_code=201, summary="Roll back: publish again the version in effect before the newest publish"
    )
    async def rollback(
        self, platform: PlatformDep, actor: ActorDep, data: JSONBody[RollbackRequest | None] = None
    ) -> PublicationView:
        return await publication.rollback(platform, actor, data.note if data else "")


class StaffDirectoryController(Controller):
    """用户与角色 — the staff directory (roles, agencies, regions, hall, active)."""

    path = "/api/v1/admin/staff"
    tags = ["administration"]

    @get("/", summary="Staff members (inactive ones too unless include_inactive=false)")
    async def list(
        self, platform: PlatformDep, actor: ActorDep, include_inactive: FromQuery[bool] = True
    ) -> list[StaffView]:
        return await staff.list_staff(platform, actor, include_inactive)

    @post("/", status_code=201, summary="Add a staff member")
    async def create(self, platform: PlatformDep, actor: ActorDep, data: JSONBody[StaffInput]) -> StaffView:
        return await staff.create_staff(platform, actor, data)

    @get("/{subject:str}", summary="One staff member")
    async def read(self, platform: PlatformDep, actor: ActorDep, subject: FromPath[str]) -> StaffView:
        return await staff.get_staff(platform, actor, subject)

    @patch("/{subject:str}", summary="Change a staff member (only the fields sent)")
    async def change(
        self, platform: PlatformDep, actor: ActorDep, subject: FromPath[str], data: JSONBody[StaffChange]
    ) -> StaffView:
        return await staff.change_staff(platform, actor, subject, data)

    @post(
        "/{subject:str}/deactivate",
        status_code=200,
        summary="Deactivate a staff member (kept for history, grants nothing)",
    )
    async def deactivate(self, platform: PlatformDep, actor: ActorDep, subject: FromPath[str]) -> StaffView:
        return await staff.deactivate_staff(platform, actor, subject)


class HolidayCalendarController(Controller):
    """节假日安排 — official holiday arrangements per year: state, warning, preview and import."""

    path = "/api/v1/admin/calendar"
    tags = ["administration"]

    @get("/", summary="Years known (official or computed), the 1 November warning and the import log")
    async def state(self, platform: PlatformDep, actor: ActorDep) -> holidays.CalendarState:
        return await holidays.calendar_state(platform, actor)

    @post("/preview", status_code=200, summary="What importing an arrangement would change (nothing is changed)")
    async def preview(
        self, platform: PlatformDep, actor: ActorDep, data: JSONBody[holidays.ArrangementInput]
    ) -> holidays.ArrangementDiff:
        return await holidays.preview(platform, actor, data)

    @post(
        "/imports",
        status_code=201,
        summary="Import a year's official arrangement: audited; moved promised dates go on timelines and to applicants",
    )
    async def import_(
        self, platform: PlatformDep, actor: ActorDep, data: JSONBody[holidays.ArrangementInput]
    ) -> holidays.ImportView:
        return await holidays.import_arrangement(platform, actor, data)


ROUTES: list[Any] = [CatalogPublicationController, StaffDirectoryController, HolidayCalendarController]
