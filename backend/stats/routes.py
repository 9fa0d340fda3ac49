"""HTTP routes of 数据汇聚 and the public transparency figures."""

from __future__ import annotations

from datetime import date
from typing import Any

from litestar import Response, get
from litestar.params import FromQuery

from backend.cases.common import cst_date
from backend.identity.actor import ActorDep, require_admin
from backend.lib.problems import ProblemError
from backend.platform import PlatformDep
from backend.stats.service import CSV_SECTIONS, compute, public_figures, to_csv


def _dates(since: str | None, until: str | None) -> tuple[date | None, date | None]:
    try:
        return (date.fromisoformat(since) if since else None, date.fromisoformat(until) if until else None)
    except ValueError as exc:
        raise ProblemError(
            422, "invalid_date", "日期格式应为 YYYY-MM-DD。 Dates are YYYY-MM-DD.", field="since"
        ) from exc


async def _figures(platform, since: str | None, until: str | None) -> dict[str, Any]:
    s, u = _dates(since, until)
    return await compute(platform.cases.calendar, since=s, until=u, today=cst_date(platform.clock.now_ms()))


@get("/api/v1/stats", tags=["statistics"], summary="数据汇聚: volumes, durations, SLA compliance, satisfaction, trend")
async def statistics_view(
    platform: PlatformDep, actor: ActorDep, since: FromQuery[str | None] = None, until: FromQuery[str | None] = None
) -> dict[str, Any]:
    require_admin(actor)
    return await _figures(platform, since, until)


@get(
    "/api/v1/stats/export",
    tags=["statistics"],
    summary="CSV export of one section (items | volumes | trend)",
    media_type="text/csv",
)
async def statistics_csv(
    platform: PlatformDep,
    actor: ActorDep,
    section: FromQuery[str] = "items",
    since: FromQuery[str | None] = None,
    until: FromQuery[str | None] = None,
) -> Response:
    require_admin(actor)
    if section not in CSV_SECTIONS:
        raise ProblemError(422, "invalid_section", "section 须为 items、volumes 或 trend。", field="section")
    body = to_csv(await _figures(platform, since, until), section)
    return Response(
        content=body.encode("utf-8"),
        media_type="text/csv; charset=utf-8",
        headers={"Content-Disposition": f'attachment; filename="stats-{section}.csv"'},
    )


@get("/api/v1/public/transparency", tags=["statistics"], summary="Public aggregate figures (no case-level data)")
async def transparency(platform: PlatformDep) -> dict[str, Any]:
    return public_figures(await _figures(platform, None, None))


ROUTES: list[Any] = [statistics_view, statistics_csv, transparency]
