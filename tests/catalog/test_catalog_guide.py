"""The guide (办事指南): complete for every entity type and route, figures computed, good HTML."""

import re

import pytest

from backend.catalog.engine import full_bundle_answers, plan
from backend.catalog.guide import build_guide, render_html
from backend.catalog.loader import get_catalog

CATALOG = get_catalog()
CASES = [(et, route) for et in sorted(CATALOG.entity_types) for route in ("simplified", "general")]


@pytest.mark.parametrize(("entity_type", "route"), CASES)
def test_guide_content(entity_type, route):
    g = build_guide(CATALOG, entity_type, route)
    et = CATALOG.entity_types[entity_type]
    codes = [i.code for i in g.items]
    assert codes[:2] == [et.tax_item, et.registration_item]
    assert {"CUSTOMS", "SI-PENSION", "SI-UNEMPLOYMENT", "BANK", "SEAL"} <= set(codes)
    customs = next(i for i in g.items if i.code == "CUSTOMS")
    assert {o.code for o in customs.offices} == {"customs-fz", "customs-xm"}
    assert len({m.code for m in g.materials}) == len(g.materials)  # deduplicated
    assert any(m.waived for m in g.materials) and any(not m.waived for m in g.materials)
    assert [s.order for s in g.steps] == list(range(1, len(g.steps) + 1))
    assert g.conditions[0].kind == "jurisdiction"
    kinds = {c.kind for c in g.conditions}
    assert ("exclusion" in kinds) == (route == "simplified")
    assert ("prerequisite" in kinds) == et.can_have_branches
    listed = any(c.code == "simplified_excluded_listed_company" for c in g.conditions)
    assert listed == (route == "simplified" and entity_type == "company")
    assert g.sources and all(s.id in CATALOG.sources for s in g.sources)


@pytest.mark.parametrize(("entity_type", "route"), CASES)
def test_guide_figures_equal_the_engine_on_the_full_bundle(entity_type, route):
    g = build_guide(CATALOG, entity_type, route)
    et = CATALOG.entity_types[entity_type]
    p = plan(CATALOG, entity_type, "350102", full_bundle_answers(CATALOG, et, route))
    assert g.reduction == p.reduction
    assert g.promised_days == p.promised_days
    assert [f.code for f in g.form_fields] == list(p.form["properties"])


def test_period_tables_follow_the_route():
    simplified = {p.code for p in build_guide(CATALOG, "company", "simplified").periods}
    general = {p.code for p in build_guide(CATALOG, "company", "general").periods}
    individual = {p.code for p in build_guide(CATALOG, "individual", "simplified").periods}
    assert "simplified_publicity" in simplified and "creditor_notice" in general
    assert individual == {"individual_objection"}
    assert next(p for p in build_guide(CATALOG, "company", "general").periods if p.code == "creditor_notice").days == 45


@pytest.mark.parametrize(("entity_type", "route"), CASES)
def test_guide_html_is_accessible_printable_and_self_contained(entity_type, route):
    g = build_guide(CATALOG, entity_type, route)
    html = render_html(g)
    assert html.startswith("<!DOCTYPE html>")
    assert '<html lang="zh-CN">' in html
    assert '<meta name="viewport" content="width=device-width, initial-scale=1">' in html
    assert html.count("<h1>") == 1 and html.count("<h2") >= 6
    assert html.count("<table>") == html.count("<caption>") >= 2
    assert '<th scope="col">' in html
    assert "<script" not in html and "<link" not in html and "@import" not in html
    assert "@media print" in html and "@media (max-width" in html
    assert g.title.zh in html
    r = g.reduction
    assert f"{r.form_fields.before} → {r.form_fields.after}" in html
    assert f"{r.materials.before} → {r.materials.after_waivers}" in html
    for m in g.materials:
        assert m.name.zh.replace("“", "&ldquo;")[:4] in html or m.name.zh[:4] in html
    # Every English span is marked as English for screen readers.
    assert len(re.findall(r'class="en" lang="en"', html)) > 10


def test_html_escapes_text():
    g = build_guide(CATALOG, "company", "general")
    html = render_html(g)
    assert "Xiamen&#x27;s" in html and "Xiamen's" not in html
