"""Catalog and rules engine (事项目录与规则引擎) of the deregistration one-thing platform.

Public API:

- ``get_catalog(version=None) -> Catalog``: a versioned catalog, loaded lazily and cached;
- ``plan(catalog, entity_type, region, answers, facts=None, jurisdiction=None) -> Plan``;
- ``build_guide(catalog, entity_type, route) -> Guide`` and ``render_html(guide) -> str``;
- ``validate_submission(form_schema, data)``: check a merged-form submission (422 ``form_invalid``);
- ``validate_draft(version, form_data=, answers=)``: size limits of what a draft saves (422 ``draft_invalid``);
- ``ROUTES``: the route handlers to register in the app.

Importing this package reads no files; data loads on first use.
"""

from backend.catalog.controllers import CatalogController
from backend.catalog.engine import plan
from backend.catalog.formschema import validate_draft, validate_submission
from backend.catalog.guide import build_guide, render_html
from backend.catalog.loader import Catalog, CatalogError, available_versions, get_catalog, get_divisions

ROUTES = [CatalogController]

__all__ = [
    "ROUTES",
    "Catalog",
    "CatalogController",
    "CatalogError",
    "available_versions",
    "build_guide",
    "get_catalog",
    "get_divisions",
    "plan",
    "render_html",
    "validate_draft",
    "validate_submission",
]
