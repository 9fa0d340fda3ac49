"""The rules engine (规则引擎): from an entity and its situation answers, a plan.

``plan()`` is pure in-memory computation over an indexed :class:`Catalog`; every rule it
applies (which items apply, blockers, route exclusions, materials and waivers, form fields,
dependencies, routing) comes from the catalog data, so rules change without code changes.

Input problems are 422 problems with stable codes and the offending field:
``unknown_entity_type`` (entity_type), ``unknown_region`` / ``region_outside_fujian`` /
``region_not_specific`` (region), ``unknown_answer`` / ``missing_answer`` / ``invalid_answer`` /
``inconsistent_answer`` (``answers.<key>``). Legal exclusions are never errors: they are
blockers in the plan, with how to resolve them.

BANK is one plan item whose ``quantity`` is the number of accounts; the form collects one
entry per account (basic deposit account last) and dispatch closes them in that order.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.catalog import schemas as s
from backend.catalog.formschema import SCHEMA_DIALECT, field_schema
from backend.catalog.loader import Catalog, CatalogError, get_divisions, route_for, validate_division
from backend.lib.problems import FieldError, ProblemError

SIMPLIFIED_OK = s.Text(zh="未发现简易注销除外情形。", en="No exclusion from the simplified route applies.")
GENERAL_OK = s.Text(zh="普通注销适用于各类市场主体。", en="The general route is open to every market entity.")


# --------------------------------------------------------------------------- input checks


def resolve_entity_type(catalog: Catalog, code: str, field: str = "entity_type") -> s.EntityType:
    """The entity type for ``code`` or a 422 ``unknown_entity_type``."""
    et = catalog.entity_types.get(code)
    if et is None:
        raise ProblemError(
            422,
            "unknown_entity_type",
            f"未知的主体类型 {code!r}，可选：{', '.join(catalog.entity_types)}。 Unknown entity type.",
            field=field,
        )
    return et


def resolve_region(region: str, field: str = "region") -> s.Division:
    """A Fujian division at prefecture or county level (422 otherwise)."""
    code = validate_division(region, field=field)
    div = get_divisions().get(code)
    if div.level == "province":
        raise ProblemError(
            422,
            "region_not_specific",
            "请选择企业住所所在的设区市或县（市、区），不能只选福建省。 Choose a city or county, not the province.",
            field=field,
        )
    return div


def normalize_answers(
    catalog: Catalog, et: s.EntityType, answers: Mapping[str, Any], facts: Mapping[str, Any] | None = None
) -> dict[str, Any]:
    """Check answers against the catalog's questions; platform facts override answers.

    Returns every question's value (defaults filled). All problems are reported at once.
    """
    merged = {**answers, **(facts or {})}
    errors: list[FieldError] = []

    def err(key: str, code: str, zh: str, en: str) -> None:
        errors.append(FieldError(field=f"answers.{key}", code=code, message=f"{zh} {en}"))

    for key in merged:
        if key not in catalog.questions:
            err(key, "unknown_answer", f"未知的办理情形 {key!r}。", "Unknown answer key.")
    out: dict[str, Any] = {}
    for q in catalog.questions.values():
        if q.key not in merged:
            if q.required:
                err(q.key, "missing_answer", f"请回答：{q.text.zh}", f"Answer required: {q.text.en}")
            else:
                out[q.key] = q.default
            continue
        v = merged[q.key]
        if q.type == "boolean" and not isinstance(v, bool):
            err(q.key, "invalid_answer", "应回答是（true）或否（false）。", "Expected true or false.")
        elif q.type == "count" and (not isinstance(v, int) or isinstance(v, bool) or v < 0):
            err(q.key, "invalid_answer", "应为不小于0的整数。", "Expected a whole number, 0 or more.")
        elif q.type == "count" and q.maximum is not None and v > q.maximum:
            err(q.key, "invalid_answer", f"不能大于 {q.maximum}。", f"At most {q.maximum}.")
        elif q.type == "choice" and v not in q.options:
            err(q.key, "invalid_answer", f"可选值：{', '.join(q.options)}。", "Not one of the options.")
        elif q.only_for is not None and et.code not in q.only_for and v != q.neutral:
            text = q.inconsistent or s.Text(zh="该回答与主体类型不符。", en="Inconsistent with the entity type.")
            err(q.key, "inconsistent_answer", text.zh, text.en)
        else:
            out[q.key] = v
    if errors:
        first = errors[0]
        raise ProblemError(422, first.code, "办理情形有误，请按字段提示修改。 Some answers are invalid.", errors=errors)
    return out


def _jurisdiction(catalog: Catalog, jurisdiction: s.Jurisdiction | str | None) -> s.Jurisdiction:
    if jurisdiction is None:
        return catalog.default_jurisdiction
    if isinstance(jurisdiction, s.Jurisdiction):
        return jurisdiction
    try:
        return catalog.jurisdictions[jurisdiction]
    except KeyError:
        raise CatalogError(f"unknown jurisdiction {jurisdiction!r}") from None


# --------------------------------------------------------------------------- evaluation


def context(et: s.EntityType, answers: Mapping[str, Any]) -> dict[str, Any]:
    """The planning context that catalog conditions test."""
    return {**answers, "entity_type": et.code, "is_branch": et.is_branch}


def applicable_items(catalog: Catalog, et: s.EntityType, ctx: Mapping[str, Any]) -> dict[str, s.Item]:
    """Items that apply, in catalog order."""
    out = {}
    for item in catalog.items.values():
        if item.applies.by == "entity_type":
            ok = item.code in (et.registration_item, et.tax_item)
        else:
            ok = item.applies.when is not None and item.applies.when.holds(ctx)
        if ok:
            out[item.code] = item
    return out


def _not_applicable_reason(catalog: Catalog, et: s.EntityType, item: s.Item) -> s.Text:
    if item.applies.by == "entity_type":
        own = catalog.items[et.registration_item if item.matter == "registration" else et.tax_item]
        return s.Text(
            zh=f"主体类型为“{et.name.zh}”，办理“{own.name.zh}”（{own.code}）。",
            en=f"The entity type is {et.name.en}; it uses {own.code} ({own.name.en}).",
        )
    return item.applies.not_text or s.Text(zh="不适用。", en="Not applicable.")


def dependency_edges(
    catalog: Catalog, items: Mapping[str, s.Item], ctx: Mapping[str, Any] | None = None
) -> list[s.Edge]:
    """Edges between applicable items from the matter-level dependencies that hold in ``ctx``."""
    edges = []
    for dep in catalog.dependencies:
        if dep.when is not None and (ctx is None or not dep.when.holds(ctx)):
            continue
        for item in items.values():
            if item.matter != dep.matter:
                continue
            for before in items.values():
                if before.matter == dep.after:
                    edges.append(
                        s.Edge(item=item.code, depends_on=before.code, why=dep.why, legal_basis=dep.legal_basis)
                    )
    return edges


def timed_stages(catalog: Catalog, ctx: Mapping[str, Any]) -> list[s.Period]:
    """Statutory periods the case runs itself before some matters may act (公示期 / 异议期)."""
    route = ctx.get("route")
    return [p for p in catalog.periods if p.blocks and route in p.routes and (p.when is None or p.when.holds(ctx))]


def item_days(item: s.Item, answers: Mapping[str, Any]) -> int:
    """Working days an item takes: a ``basic_last`` chain of several units takes two rounds."""
    quantity = int(answers.get(item.quantity_from, 1)) if item.quantity_from else 1
    rounds = 2 if item.sequence == "basic_last" and quantity >= 2 else 1
    return item.promised_days * rounds


def _weight(stage_days: int, working_days: int) -> int:
    # Only to compare paths: a calendar day is about 5/7 of a working day.
    return -(-stage_days * 5 // 7) + working_days


def longest_path(
    items: Mapping[str, s.Item],
    edges: list[s.Edge],
    answers: Mapping[str, Any] | None = None,
    stages: list[s.Period] = (),  # type: ignore[assignment]
) -> tuple[int, list[str]]:
    """Overall promised working days (longest path) and its items; raises on a cycle."""
    days, _, path = promised_time(items, edges, answers or {}, stages)
    return days, path


def promised_time(
    items: Mapping[str, s.Item], edges: list[s.Edge], answers: Mapping[str, Any], stages: list[s.Period]
) -> tuple[int, int, list[str]]:
    """(working days, calendar days of the stage waited for, critical path) of the plan.

    Items of a matter a stage ``blocks`` start when the stage ends; a path through a stage is
    "the stage's calendar days, then working days". Paths are compared by their working-day
    equivalent; the stage's own code is on the critical path as ``NOTICE:<period code>``.
    """
    deps: dict[str, list[str]] = {code: [] for code in items}
    for e in edges:
        deps[e.item].append(e.depends_on)
    stage_of: dict[str, s.Period] = {}
    for st in stages:
        for code, item in items.items():
            if item.matter in st.blocks and code not in stage_of:
                stage_of[code] = st
    finish: dict[str, tuple[int, int, list[str]]] = {}
    visiting: set[str] = set()

    def visit(code: str) -> tuple[int, int, list[str]]:
        if code in finish:
            return finish[code]
        if code in visiting:
            raise CatalogError(f"dependency cycle through {code}")
        visiting.add(code)
        best: tuple[int, int, list[str]] = (0, 0, [])
        if code in stage_of:
            st = stage_of[code]
            best = (
                st.days if st.unit == "calendar" else 0,
                st.days if st.unit == "working" else 0,
                [f"NOTICE:{st.code}"],
            )
        for d in deps[code]:
            cand = visit(d)
            if _weight(cand[0], cand[1]) > _weight(best[0], best[1]):
                best = cand
        visiting.discard(code)
        finish[code] = (best[0], best[1] + item_days(items[code], answers), [*best[2], code])
        return finish[code]

    total: tuple[int, int, list[str]] = (0, 0, [])
    for code in items:
        cand = visit(code)
        if _weight(cand[0], cand[1]) > _weight(total[0], total[1]):
            total = cand
    return total[1], total[0], total[2]


def promised_text(working_days: int, stage_days: int, stages: list[s.Period], path: list[str]) -> s.Text:
    """The promise in words, naming the stage the critical path waits for."""
    stage = next((st for st in stages if f"NOTICE:{st.code}" in path), None)
    if stage is None or not stage_days:
        return s.Text(
            zh=f"提交申请后{working_days}个工作日内办结",
            en=f"Done within {working_days} working day{'' if working_days == 1 else 's'} of applying",
        )
    name = stage.stage_name or stage.name
    return s.Text(
        zh=f"提交申请后先经{name.zh}{stage_days}日，期满无异议后{working_days}个工作日内办结",
        en=(
            f"After applying, a {name.en} of {stage_days} day{'' if stage_days == 1 else 's'}; "
            f"then done within {working_days} working day{'' if working_days == 1 else 's'}"
        ),
    )


def _ref(obj: s.Department | s.System | s.Office) -> s.Ref:
    return s.Ref(code=obj.code, name=obj.name)


def plan_item(
    catalog: Catalog, item: s.Item, region: str | None, depends_on: list[str], answers: Mapping[str, Any]
) -> s.PlanItem:
    """One applicable item with its routed system and office."""
    system = catalog.systems[item.system]
    office = None
    routing_why = None
    if item.routing and region:
        rule = route_for(catalog.routing[item.routing], region)
        if rule:
            system = catalog.systems[rule.system] if rule.system else system
            office = _ref(catalog.offices[rule.office]) if rule.office else None
            routing_why = rule.why
    quantity = int(answers.get(item.quantity_from, 1)) if item.quantity_from else 1
    return s.PlanItem(
        code=item.code,
        matter=item.matter,
        name=item.name,
        department=_ref(catalog.departments[system.department]),
        system=_ref(system),
        depends_on=depends_on,
        why=item.applies.text or item.name,
        promised_days=item.promised_days,
        legal_basis=item.legal_basis,
        office=office,
        routing_why=routing_why,
        quantity=quantity,
        also_systems=[_ref(catalog.systems[c]) for c in item.also_systems],
    )


def plan_materials(
    catalog: Catalog, items: Mapping[str, s.Item], ctx: Mapping[str, Any]
) -> tuple[list[s.PlanMaterial], int]:
    """Materials needed by applicable items (deduplicated), and the count before dedupe."""
    out = []
    before = 0
    matters_applicable = {i.matter for i in items.values()}
    for m in catalog.materials.values():
        if m.when is not None and not m.when.holds(ctx):
            continue
        needed_by = [c for c, i in items.items() if c in m.items or i.matter in m.matters]
        if not needed_by:
            continue
        before += len(needed_by)
        waiver = None
        for w in m.waivers:
            if (w.when is None or w.when.holds(ctx)) and (w.matter is None or w.matter in matters_applicable):
                waiver = s.WaiverView(source=w.source, reason=w.reason, legal_basis=w.legal_basis)
                break
        out.append(plan_material(m, needed_by, waiver))
    return out, before


def plan_material(m: s.Material, needed_by: list[str], waiver: s.WaiverView | None) -> s.PlanMaterial:
    """A material as plans and guides show it."""
    return s.PlanMaterial(
        code=m.code,
        name=m.name,
        needed_by=needed_by,
        waived=waiver is not None,
        physical=m.physical,
        online=m.online,
        waiver=waiver,
        condition=m.when_text,
        legal_basis=[*m.legal_basis, *m.zero_visit_basis],
        zero_visit=m.zero_visit if m.physical else None,
        unverified=m.unverified,
    )


def plan_form(
    catalog: Catalog, et: s.EntityType, items: Mapping[str, s.Item], ctx: Mapping[str, Any], route: str
) -> tuple[dict[str, Any], int]:
    """The merged form as JSON Schema 2020-12, and the field count before merging."""
    props: dict[str, Any] = {}
    required: list[str] = []
    before = 0
    for f in catalog.fields.values():
        if f.when is not None and not f.when.holds(ctx):
            continue
        maps: dict[str, str] = {}
        for target, payload in f.maps.items():
            for item in catalog.items_for(target):
                if item.code in items:
                    maps.setdefault(item.code, payload)
        if not maps:
            continue
        before += len(maps)
        count = int(ctx.get(f.count_from, 0)) if f.count_from else None
        prop = field_schema(f, count)
        prop["x-maps-to"] = maps
        props[f.key] = prop
        if f.required:
            required.append(f.key)
    schema = {
        "$schema": SCHEMA_DIALECT,
        "$id": f"urn:fj-dereg:form:{catalog.version}:{et.code}:{route}",
        "title": catalog.form.title.zh,
        "x-title-en": catalog.form.title.en,
        "type": "object",
        "properties": props,
        "required": required,
        "additionalProperties": False,
    }
    return schema, before


def _figure(before: int, after: int) -> s.Figure:
    saved = before - after
    return s.Figure(before=before, after=after, saved=saved, percent=round(saved * 100 / before) if before else 0)


def reduction(
    catalog: Catalog,
    items: Mapping[str, s.Item],
    answers: Mapping[str, Any],
    form_before: int,
    form_after: int,
    materials: list[s.PlanMaterial],
    materials_before: int,
) -> s.Reduction:
    """Before/after figures, computed (never typed in).

    steps before: one application per item (BANK: one per account); after: one application.
    visits before: one per agency (department); after: one if a physical material has no
    zero-visit way (``zero_visit`` in the catalog), otherwise none.
    """
    steps_before = sum(int(answers.get(i.quantity_from, 1)) if i.quantity_from else 1 for i in items.values())
    visits_before = len({i.department for i in items.values()})
    # 零跑动: a physical material with a zero-visit way (post, pushed result, void announcement)
    # does not need a visit; the others do, and the plan says which and why.
    needing_visit = [m for m in materials if m.physical and not m.waived and m.zero_visit is None]
    visits_after = 1 if needing_visit else 0
    after_waivers = sum(1 for m in materials if not m.waived)
    saved = materials_before - after_waivers
    return s.Reduction(
        form_fields=_figure(form_before, form_after),
        materials=s.MaterialFigure(
            before=materials_before,
            after_dedupe=len(materials),
            after_waivers=after_waivers,
            saved=saved,
            percent=round(saved * 100 / materials_before) if materials_before else 0,
        ),
        steps=_figure(steps_before, 1 if items else 0),
        visits=_figure(visits_before, visits_after),
        visit_reasons=[
            s.Text(zh=f"须当面交回：{m.name.zh}", en=f"To be handed in in person: {m.name.en}") for m in needing_visit
        ],
    )


def route_eligibility(catalog: Catalog, ctx: Mapping[str, Any]) -> s.RouteEligibility:
    """Which routes the situation allows, with the reasons."""
    excluded = [
        s.Reason(code=r.code, text=r.message, legal_basis=r.legal_basis)
        for r in catalog.rules.values()
        if r.kind == "simplified_exclusion" and r.when.holds(ctx)
    ]
    simplified = s.Eligibility(
        eligible=not excluded,
        reasons=excluded or [s.Reason(code="no_exclusion", text=SIMPLIFIED_OK, legal_basis=["R Art. 33", "D Art. 48"])],
    )
    general = s.Eligibility(
        eligible=True, reasons=[s.Reason(code="always", text=GENERAL_OK, legal_basis=["R Art. 32"])]
    )
    return s.RouteEligibility(simplified=simplified, general=general)


def _blockers(
    catalog: Catalog, ctx: Mapping[str, Any], region: s.Division, jurisdiction: s.Jurisdiction
) -> tuple[list[s.Blocker], list[s.Notice]]:
    blockers: list[s.Blocker] = []
    if not region.administered or not jurisdiction.serves(region.code):
        ex = jurisdiction.exclusion_for(region.code)
        message = (
            ex.message
            if ex
            else s.Text(
                zh=f"{region.name}不在本平台（{jurisdiction.name.zh}）的受理范围内。",
                en=f"{region.name_en} is outside this platform's area ({jurisdiction.name.en}).",
            )
        )
        resolve = (
            ex.apply_at
            if ex
            else s.Text(
                zh="请向企业住所所在地的登记机关或当地政务服务平台申请。",
                en="Apply to the registrar or service platform where the enterprise is located.",
            )
        )
        blockers.append(
            s.Blocker(
                code="outside_jurisdiction",
                message=message,
                resolve=resolve,
                legal_basis=(ex.legal_basis if ex else []) or ["FJ"],
                field="region",
            )
        )
    notices = []
    for r in catalog.rules.values():
        if not r.when.holds(ctx):
            continue
        if r.kind == "blocker" or (r.kind == "simplified_exclusion" and ctx.get("route") == "simplified"):
            blockers.append(
                s.Blocker(code=r.code, message=r.message, resolve=r.resolve, legal_basis=r.legal_basis, field=r.field)
            )
        elif r.kind == "notice":
            notices.append(s.Notice(code=r.code, message=r.message, legal_basis=r.legal_basis))
    return blockers, notices


def plan(
    catalog: Catalog,
    entity_type: str,
    region: str,
    answers: Mapping[str, Any],
    facts: Mapping[str, Any] | None = None,
    jurisdiction: s.Jurisdiction | str | None = None,
) -> s.Plan:
    """Plan one deregistration: items, blockers, route eligibility, materials, form, timing.

    ``facts`` are values the platform looked up itself (same keys as answers); they take
    precedence over the applicant's answers. ``jurisdiction`` defaults to the catalog's.
    """
    et = resolve_entity_type(catalog, entity_type)
    div = resolve_region(region)
    values = normalize_answers(catalog, et, answers, facts)
    juris = _jurisdiction(catalog, jurisdiction)
    ctx = context(et, values)
    route = values["route"]

    items = applicable_items(catalog, et, ctx)
    edges = dependency_edges(catalog, items, ctx)
    deps_of: dict[str, list[str]] = {c: [] for c in items}
    for e in edges:
        deps_of[e.item].append(e.depends_on)
    plan_items = [plan_item(catalog, i, div.code, deps_of[c], values) for c, i in items.items()]
    not_applicable = [
        s.NotApplicable(code=i.code, name=i.name, reason=_not_applicable_reason(catalog, et, i))
        for c, i in catalog.items.items()
        if c not in items
    ]
    blockers, notices = _blockers(catalog, ctx, div, juris)
    materials, materials_before = plan_materials(catalog, items, ctx)
    form, form_before = plan_form(catalog, et, items, ctx, route)
    stages = timed_stages(catalog, ctx)
    days, stage_days, critical = promised_time(items, edges, values, stages)
    pref = get_divisions().prefecture(div.code)
    return s.Plan(
        catalog_version=catalog.version,
        entity_type=et.code,
        region=s.RegionView(
            code=div.code,
            name=div.name,
            name_en=div.name_en,
            prefecture=pref.code if pref else None,
            prefecture_name=pref.name if pref else None,
        ),
        route=route,
        jurisdiction=juris.code,
        can_submit=not blockers,
        items=plan_items,
        not_applicable=not_applicable,
        blockers=blockers,
        notices=notices,
        route_eligibility=route_eligibility(catalog, ctx),
        materials=materials,
        form=form,
        dependencies=edges,
        promised_days=days,
        critical_path=critical,
        reduction=reduction(catalog, items, values, form_before, len(form["properties"]), materials, materials_before),
        answers=values,
        stage_days=stage_days,
        promised_text=promised_text(days, stage_days, stages, critical),
    )


def full_bundle_answers(catalog: Catalog, et: s.EntityType, route: str) -> dict[str, Any]:
    """The situation in which every optional item applies and nothing blocks (for guides)."""
    out: dict[str, Any] = {}
    for q in catalog.questions.values():
        if q.key == "route":
            out[q.key] = route
        elif q.type == "count":
            out[q.key] = 1 if q.key != "active_branches" else 0
        elif q.type == "boolean":
            out[q.key] = False
        else:
            out[q.key] = q.default
    for item in catalog.items.values():
        for t in item.applies.when.all if item.applies.when else ():
            out[t.key] = t.eq if t.gte is None else max(t.gte, 1)
    return out
