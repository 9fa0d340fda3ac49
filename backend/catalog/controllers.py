"""HTTP routes of the catalog context: thin handlers over the loader, engine and guide."""

from __future__ import annotations

import functools
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.params import FromPath, JSONBody, QueryParameter

from backend.catalog import engine, guide
from backend.catalog import schemas as s
from backend.catalog.loader import Catalog, get_catalog, get_divisions
from backend.lib.compress import GZIP
from backend.lib.openapi import OPT_ALSO_MEDIA_TYPES
from backend.lib.problems import ProblemError
from backend.platform import PlatformDep


def catalog_view(catalog: Catalog) -> s.CatalogView:
    """The public view of a catalog version."""
    return s.CatalogView(
        version=catalog.version,
        effective_from=catalog.meta.effective_from,
        title=catalog.meta.title,
        jurisdiction=catalog.default_jurisdiction,
        matters=list(catalog.matters.values()),
        items=[
            s.ItemView(
                code=i.code,
                matter=i.matter,
                name=i.name,
                department=s.Ref(code=i.department, name=catalog.departments[i.department].name),
                system=s.Ref(code=i.system, name=catalog.systems[i.system].name),
                promised_days=i.promised_days,
                legal_basis=i.legal_basis,
                applies_when=i.applies.text,
            )
            for i in catalog.items.values()
        ],
        entity_types=[guide.entity_type_view(et) for et in catalog.entity_types.values()],
        questions=[
            s.QuestionView(
                key=q.key,
                type=q.type,
                text=q.text,
                required=q.required,
                help=q.help,
                options=[s.OptionView(value=o, text=q.option_text.get(o)) for o in q.options] or None,
                default=q.default,
                maximum=q.maximum,
                only_for=q.only_for,
            )
            for q in catalog.questions.values()
        ],
        departments=list(catalog.departments.values()),
        systems=list(catalog.systems.values()),
        offices=list(catalog.offices.values()),
        sources=list(catalog.sources.values()),
    )


@functools.cache
def _catalog_view_cached(catalog: Catalog) -> s.CatalogView:
    return catalog_view(catalog)


@functools.cache
def _guide_html(catalog: Catalog, entity_type: str, route: str) -> str:
    return guide.render_html(guide.build_guide(catalog, entity_type, route))


def _wants_html(request: Request, fmt: str | None) -> bool:
    if fmt is not None:
        if fmt not in ("html", "json"):
            raise ProblemError(
                422, "invalid_format", "format 应为 html 或 json。 format must be html or json.", field="format"
            )
        return fmt == "html"
    accept = request.headers.get("accept", "").lower()
    # Browsers list text/html first; API clients send application/json or */*.
    if "text/html" not in accept:
        return False
    return "application/json" not in accept or accept.index("text/html") < accept.index("application/json")


class CatalogController(Controller):
    """事项目录、办理计划与办事指南 — catalog, plans and guides."""

    path = "/api/v1"
    tags = ["catalog"]

    @get("/catalog", summary="The catalog: matters, items, entity types, questions", middleware=[GZIP])
    async def get_catalog_view(
        self, version: Annotated[str | None, QueryParameter(name="version", max_length=20)] = None
    ) -> s.CatalogView:
        return _catalog_view_cached(get_catalog(version, field="version"))

    @get("/divisions", summary="Fujian GB/T 2260 divisions, flagged with the deployment's jurisdiction")
    async def list_divisions(self, platform: PlatformDep) -> list[s.DivisionView]:
        catalog = get_catalog()
        juris = catalog.jurisdictions.get(platform.settings.jurisdiction) or catalog.default_jurisdiction
        divs = get_divisions()
        return [
            s.DivisionView(
                code=d.code,
                name=d.name,
                name_en=d.name_en,
                level=d.level,
                parent=divs.parent(d.code),
                in_jurisdiction=d.administered and d.level != "province" and juris.serves(d.code),
            )
            for d in divs.all()
        ]

    @post("/plans", status_code=200, summary="Plan a deregistration from the entity and its situation")
    async def create_plan(self, platform: PlatformDep, data: JSONBody[s.PlanRequest]) -> s.Plan:
        catalog = get_catalog(data.catalog_version)
        return engine.plan(
            catalog, data.entity_type, data.region, data.answers, jurisdiction=platform.settings.jurisdiction or None
        )

    @get(
        "/guides/{entity_type:str}",
        summary="The guide (办事指南) as JSON, or a printable zh-CN page for Accept: text/html",
        media_type="application/json",
        middleware=[GZIP],
        opt={OPT_ALSO_MEDIA_TYPES: ("text/html",)},
    )
    async def get_guide(
        self,
        request: Request,
        entity_type: FromPath[str],
        route: Annotated[str, QueryParameter(name="route", max_length=20)] = "general",
        fmt: Annotated[str | None, QueryParameter(name="format", max_length=10)] = None,
        version: Annotated[str | None, QueryParameter(name="version", max_length=20)] = None,
    ) -> Response:
        catalog = get_catalog(version, field="version")
        if _wants_html(request, fmt):
            html = _guide_html(catalog, entity_type, route)
            return Response(content=html, media_type="text/html", headers={"Vary": "Accept"})
        g = guide.build_guide(catalog, entity_type, route)
        return Response(content=g, media_type="application/json", headers={"Vary": "Accept"})
