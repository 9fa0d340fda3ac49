"""The guide (办事指南) per entity type and route: JSON and a printable zh-CN HTML page.

The guide describes every item and material that *can* apply to the entity type on the
route, with the condition under which it does. Its figures (promised days, reductions)
are computed by the engine for the full bundle: every optional item applies (one bank
account), no agent, no exclusion.
"""

from __future__ import annotations

import functools
import re
from html import escape
from typing import Any

from backend.catalog import engine
from backend.catalog import schemas as s
from backend.catalog.loader import Catalog
from backend.lib.problems import ProblemError

REDUCTION_NOTE = s.Text(
    zh="减材料、减表单、减环节、减跑动数据由事项目录自动计算，按全部事项均适用（1个银行账户、本人办理）的情形统计。",
    en="Reduction figures are computed from the catalog for the full bundle: every item applies "
    "(one bank account, no agent).",
)


def _possible(cond: s.Condition | None, fixed: dict[str, Any]) -> bool:
    """Whether a condition can hold given only the fixed keys (other answers unknown)."""
    if cond is None:
        return True

    def test_ok(t: s.Test) -> bool:
        return t.check(fixed) if t.key in fixed else True

    return all(test_ok(t) for t in cond.all) and (not cond.any or any(test_ok(t) for t in cond.any))


def _question_applies(catalog: Catalog, et: s.EntityType, key: str) -> bool:
    q = catalog.questions.get(key)
    return q is None or q.only_for is None or et.code in q.only_for


def entity_type_view(et: s.EntityType) -> s.EntityTypeView:
    return s.EntityTypeView(
        code=et.code,
        name=et.name,
        registration_item=et.registration_item,
        tax_item=et.tax_item,
        is_branch=et.is_branch,
        can_have_branches=et.can_have_branches,
    )


def _conditions(catalog: Catalog, et: s.EntityType, route: str) -> list[s.GuideCondition]:
    juris = catalog.default_jurisdiction
    out = [
        s.GuideCondition(
            code="jurisdiction",
            kind="jurisdiction",
            text=s.Text(
                zh=f"住所在{juris.name.zh}的企业。"
                + "".join(f"{ex.message.zh}{ex.apply_at.zh}" for ex in juris.exclude),
                en=f"Served area: {juris.name.en}. "
                + " ".join(f"{ex.message.en} {ex.apply_at.en}" for ex in juris.exclude),
            ),
            legal_basis=["FJ"],
        )
    ]
    if route == "simplified":
        commitment = (
            s.Text(
                zh="个体工商户：登记机关将申请推送税务等部门，10日内无异议的予以注销。",
                en=(
                    "Individual businesses: the application is pushed to departments; "
                    "without objection in 10 days it proceeds."
                ),
            )
            if et.code == "individual"
            else s.Text(
                # R Art. 33 ¶1 in full
                zh="未发生债权债务或者已将债权债务清偿完结，未发生或者已结清清偿费用、职工工资、社会保险费用、"
                "法定补偿金、应缴纳税款（滞纳金、罚款），并由全体投资人书面承诺对上述情况的真实性承担法律责任。",
                en="No debts, or all debts settled; no, or fully paid, settlement costs, wages, social "
                "insurance, statutory compensation and taxes with late fees and fines; all investors answer "
                "in writing for its truth.",
            )
        )
        out.append(
            s.GuideCondition(
                code="simplified_commitment", kind="eligibility", text=commitment, legal_basis=["R Art. 33"]
            )
        )
        for r in catalog.rules.values():
            # Condition is a Struct whose keys() names the questions it tests (it is not iterable).
            if r.kind == "simplified_exclusion" and all(
                _question_applies(catalog, et, k)
                for k in r.when.keys()  # noqa: SIM118 - Condition.keys(), not a dict
            ):
                out.append(s.GuideCondition(code=r.code, kind="exclusion", text=r.message, legal_basis=r.legal_basis))
    else:
        out.append(
            s.GuideCondition(code="general_open", kind="eligibility", text=engine.GENERAL_OK, legal_basis=["R Art. 32"])
        )
    for r in catalog.rules.values():
        if r.kind == "blocker" and all(
            _question_applies(catalog, et, k)
            for k in r.when.keys()  # noqa: SIM118 - Condition.keys(), not a dict
        ):
            out.append(
                s.GuideCondition(
                    code=r.code,
                    kind="prerequisite",
                    text=s.Text(zh=f"{r.message.zh}{r.resolve.zh}", en=f"{r.message.en} {r.resolve.en}"),
                    legal_basis=r.legal_basis,
                )
            )
    return out


def juris_can_reach(catalog: Catalog, prefixes: list[str]) -> bool:
    """Whether the default jurisdiction serves any division under these prefixes."""
    from backend.catalog.loader import get_divisions

    juris = catalog.default_jurisdiction
    return any(juris.serves(d.code) for d in get_divisions().all() if d.code.startswith(tuple(prefixes)))


@functools.cache
def build_guide(catalog: Catalog, entity_type: str, route: str) -> s.Guide:
    """The guide for one entity type and route (cached per catalog version)."""
    et = engine.resolve_entity_type(catalog, entity_type)
    if route not in s.ROUTES_ALL:
        raise ProblemError(
            422,
            "invalid_route",
            "注销方式应为 simplified（简易注销）或 general（普通注销）。 Unknown route.",
            field="route",
        )
    answers = engine.full_bundle_answers(catalog, et, route)
    ctx = engine.context(et, answers)
    fixed = {"entity_type": et.code, "is_branch": et.is_branch, "route": route}
    items = engine.applicable_items(catalog, et, ctx)
    edges = engine.dependency_edges(catalog, items, ctx)
    stages = engine.timed_stages(catalog, ctx)
    days, stage_days, critical = engine.promised_time(items, edges, answers, stages)
    bundle_materials, materials_before = engine.plan_materials(catalog, items, ctx)
    form, form_before = engine.plan_form(catalog, et, items, ctx, route)
    red = engine.reduction(
        catalog, items, answers, form_before, len(form["properties"]), bundle_materials, materials_before
    )

    guide_items = []
    for code, item in items.items():
        offices: list[s.Ref] = []
        routed: list[s.Ref] = []
        if item.routing:
            for rule in catalog.routing[item.routing].rules:
                if not juris_can_reach(catalog, rule.prefixes):
                    continue
                if rule.office:
                    offices.append(s.Ref(code=rule.office, name=catalog.offices[rule.office].name))
                if rule.system:
                    routed.append(s.Ref(code=rule.system, name=catalog.systems[rule.system].name))
        guide_items.append(
            s.GuideItem(
                code=code,
                matter=s.Ref(code=item.matter, name=catalog.matters[item.matter].name),
                name=item.name,
                department=s.Ref(code=item.department, name=catalog.departments[item.department].name),
                system=s.Ref(code=item.system, name=catalog.systems[item.system].name),
                applies_when=item.applies.text or item.name,
                depends_on=[e.depends_on for e in edges if e.item == code],
                promised_days=item.promised_days,
                legal_basis=item.legal_basis,
                offices=offices,
                routed_systems=routed if len(routed) > 1 else [],
            )
        )

    # Materials: every one that can apply on this route, with its condition.
    possible_ctx = dict(ctx)
    materials = []
    for m in catalog.materials.values():
        if not _possible(m.when, fixed):
            continue
        needed_by = [c for c, i in items.items() if c in m.items or i.matter in m.matters]
        if not needed_by:
            continue
        waiver = next(
            (
                s.WaiverView(source=w.source, reason=w.reason, legal_basis=w.legal_basis)
                for w in m.waivers
                if _possible(w.when, possible_ctx)
                and (w.matter is None or any(i.matter == w.matter for i in items.values()))
            ),
            None,
        )
        materials.append(engine.plan_material(m, needed_by, waiver))

    steps = [
        s.GuideStep(order=n, code=st.code, name=st.name, legal_basis=st.legal_basis)
        for n, st in enumerate(
            (st for st in catalog.steps if route in st.routes and _possible(st.when, fixed)), start=1
        )
    ]
    periods = [
        s.GuidePeriod(code=p.code, name=p.name, days=p.days, unit=p.unit, legal_basis=p.legal_basis)
        for p in catalog.periods
        if route in p.routes and _possible(p.when, fixed)
    ]
    conditions = _conditions(catalog, et, route)
    route_name = catalog.questions["route"].option_text[route]
    cited = {
        ref.split(" ", 1)[0]
        for group in (
            *(c.legal_basis for c in conditions),
            *(i.legal_basis for i in guide_items),
            *(m.legal_basis for m in materials),
            *(m.waiver.legal_basis for m in materials if m.waiver),
            *(st.legal_basis for st in steps),
            *(p.legal_basis for p in periods),
            *(e.legal_basis for e in edges),
        )
        for ref in group
    }
    return s.Guide(
        catalog_version=catalog.version,
        entity_type=entity_type_view(et),
        route=route,
        title=s.Text(
            zh=f"{et.name.zh}{route_name.zh}“一件事”办事指南",
            en=f"One-thing guide: {route_name.en} for {et.name.en}",
        ),
        jurisdiction=catalog.default_jurisdiction,
        conditions=conditions,
        items=guide_items,
        materials=materials,
        steps=steps,
        periods=periods,
        promised_days=days,
        stage_days=stage_days,
        promised_text=engine.promised_text(days, stage_days, stages, critical),
        reduction=red,
        reduction_note=REDUCTION_NOTE,
        form_fields=[
            s.Ref(code=k, name=s.Text(zh=v["title"], en=v["x-title-en"])) for k, v in form["properties"].items()
        ],
        sources=[src for sid, src in catalog.sources.items() if sid in cited],
    )


# --------------------------------------------------------------------------- HTML

_CSS = """
:root{--ink:#1b1b1b;--muted:#505a5f;--line:#b1b4b6;--accent:#1d4f91;--bg:#f3f2f1;--ok:#00703c}
*{box-sizing:border-box}
html{font-size:100%;-webkit-text-size-adjust:100%}
body{margin:0;font-family:"PingFang SC","Hiragino Sans GB","Noto Sans CJK SC","Microsoft YaHei",sans-serif;
color:var(--ink);line-height:1.6;background:#fff}
main{max-width:48rem;margin:0 auto;padding:1rem}
header{border-bottom:4px solid var(--accent);margin-bottom:1rem}
h1{font-size:1.5rem;line-height:1.3;margin:.5rem 0}
h2{font-size:1.2rem;margin:1.75rem 0 .5rem;padding-top:.5rem;border-top:1px solid var(--line)}
p,li{font-size:1rem}
.meta{color:var(--muted);font-size:.9rem}
.en{color:var(--muted);font-size:.85rem;display:block}
.figures{display:grid;grid-template-columns:repeat(auto-fit,minmax(9rem,1fr));gap:.5rem;padding:0;list-style:none}
.figures li{background:var(--bg);padding:.75rem;border-left:4px solid var(--accent)}
.figures strong{display:block;font-size:1.25rem}
table{width:100%;border-collapse:collapse;margin:.5rem 0 1rem;font-size:.95rem}
caption{text-align:left;font-weight:bold;padding:.25rem 0}
th,td{border:1px solid var(--line);padding:.4rem .5rem;text-align:left;vertical-align:top}
th{background:var(--bg)}
.tag{display:inline-block;padding:0 .4rem;border-radius:.2rem;font-size:.8rem;background:var(--bg)}
.waived{color:var(--ok)}
.basis{color:var(--muted);font-size:.8rem}
ol.steps li{margin:.4rem 0}
@media (max-width:36rem){
 table,caption,thead,tbody,tr,th,td{display:block}
 thead tr{position:absolute;left:-9999px}
 tr{border:1px solid var(--line);margin-bottom:.5rem}
 td{border:none;border-bottom:1px solid var(--bg)}
 td[data-label]::before{content:attr(data-label) "：";font-weight:bold}
}
@media print{body{font-size:11pt}main{max-width:none;padding:0}h2{break-after:avoid}
 tr{break-inside:avoid}a{color:inherit}}
"""


def _t(text: s.Text | None) -> str:
    if text is None:
        return ""
    return f'{escape(text.zh)}<span class="en" lang="en">{escape(text.en)}</span>'


_CITATION = re.compile(r"^(?P<src>[A-Z][A-Z0-9]*)(?: Art\. (?P<art>\d+))?(?: ?¶(?P<para>\d+))?(?:\((?P<item>\d+)\))?$")


def cite(ref: str, titles: dict[str, str]) -> str:
    """A catalog citation ("R Art. 33 ¶2") as a reader reads it: 《市场主体登记管理条例》第33条第2款."""
    match = _CITATION.match(ref.strip())
    if not match or match["src"] not in titles:
        return ref
    title = titles[match["src"]].split("（")[0].removeprefix("中华人民共和国")
    out = f"《{title}》" if match["art"] else title
    if match["art"]:
        out += f"第{match['art']}条"
        out += f"第{match['para']}款" if match["para"] else ""
        out += f"第{match['item']}项" if match["item"] else ""
    return out


def _basis(refs: list[str], titles: dict[str, str]) -> str:
    cited = "；".join(cite(r, titles) for r in refs)
    return f'<span class="basis">依据：{escape(cited)}</span>' if refs else ""


def _table(caption: str, headers: list[str], rows: list[list[str]]) -> str:
    head = "".join(f'<th scope="col">{escape(h)}</th>' for h in headers)
    body = "".join(
        "<tr>" + "".join(f'<td data-label="{escape(h)}">{c}</td>' for h, c in zip(headers, row, strict=True)) + "</tr>"
        for row in rows
    )
    return f"<table><caption>{escape(caption)}</caption><thead><tr>{head}</tr></thead><tbody>{body}</tbody></table>"


def render_html(guide: s.Guide) -> str:
    """A self-contained, printable, phone-friendly zh-CN page (inline CSS, no scripts)."""
    titles = {src.id: src.title for src in guide.sources}
    r = guide.reduction
    figures = [
        (
            "承诺办结时限",
            (f"公示期 {guide.stage_days} 日 + " if guide.stage_days else "") + f"{guide.promised_days} 个工作日",
            "Promised time",
        ),
        ("申请表字段", f"{r.form_fields.before} → {r.form_fields.after}", "Form fields"),
        ("申请材料", f"{r.materials.before} → {r.materials.after_waivers}", "Materials"),
        ("办理环节", f"{r.steps.before} → {r.steps.after}", "Steps"),
        ("跑动次数", f"{r.visits.before} → {r.visits.after}", "Visits"),
    ]
    fig_html = "".join(
        f'<li>{escape(zh)}<strong>{escape(v)}</strong><span class="en" lang="en">{escape(en)}</span></li>'
        for zh, v, en in figures
    )
    kinds = {
        "jurisdiction": "受理范围",
        "eligibility": "适用条件",
        "exclusion": "不适用情形",
        "prerequisite": "前置条件",
    }
    cond_html = "".join(
        f'<li><span class="tag">{escape(kinds.get(c.kind, c.kind))}</span> {_t(c.text)} '
        f"{_basis(c.legal_basis, titles)}</li>"
        for c in guide.conditions
    )
    item_rows = [
        [
            f"{escape(i.code)}<br>{_t(i.name)}",
            _t(i.department.name)
            + "<br>"
            + (
                "、".join(escape(r.name.zh) for r in i.routed_systems) + "（按企业住所分流）"
                if i.routed_systems
                else escape(i.system.name.zh)
            ),
            _t(i.applies_when),
            escape("、".join(i.depends_on) or "—"),
            f"{i.promised_days} 个工作日",
        ]
        for i in guide.items
    ]
    matter_of = {i.code: i.matter.name.zh for i in guide.items}
    mat_rows = [
        [
            _t(m.name) + (f"<br><small>{_t(m.condition)}</small>" if m.condition else ""),
            escape("、".join(dict.fromkeys(matter_of[c] for c in m.needed_by))),
            (
                f'<span class="waived">免提交</span>：{_t(m.waiver.reason)}'
                if m.waiver
                else "交回实物（可邮寄或到窗口，最多跑一次）"
                if m.physical
                else "在线填写并电子签名"
                if m.online
                else "在线提交"
            ),
        ]
        for m in guide.materials
    ]
    period_rows = [
        [
            _t(p.name),
            f"{p.days} {'个工作日' if p.unit == 'working' else '日'}",
            escape("；".join(cite(r, titles) for r in p.legal_basis)),
        ]
        for p in guide.periods
    ]
    steps_html = "".join(f"<li>{_t(st.name)} {_basis(st.legal_basis, titles)}</li>" for st in guide.steps)
    fields_html = "、".join(escape(f.name.zh) for f in guide.form_fields)
    sources_html = "".join(
        f"<li><strong>{escape(src.id)}</strong> {escape(src.title)}"
        + (f' <a href="{escape(src.url)}">{escape(src.url)}</a>' if src.url else "")
        + "</li>"
        for src in guide.sources
    )
    return f"""<!DOCTYPE html>
<html lang="zh-CN">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>{escape(guide.title.zh)}</title>
<style>{_CSS}</style>
</head>
<body>
<main>
<header>
<h1>{_t(guide.title)}</h1>
<p class="meta">事项目录版本 {escape(guide.catalog_version)} · 受理范围：{escape(guide.jurisdiction.name.zh)}</p>
</header>
<section aria-labelledby="s-figures">
<h2 id="s-figures">办理成效 <span class="en" lang="en">At a glance</span></h2>
<ul class="figures">{fig_html}</ul>
<p class="meta">{_t(guide.reduction_note)}</p>
</section>
<section aria-labelledby="s-cond">
<h2 id="s-cond">适用范围与条件 <span class="en" lang="en">Who can apply</span></h2>
<ul>{cond_html}</ul>
</section>
<section aria-labelledby="s-items">
<h2 id="s-items">办理事项 <span class="en" lang="en">Items</span></h2>
{_table("一次申请包含的事项（按情形适用）", ["事项", "办理部门与系统", "适用情形", "前置事项", "承诺时限"], item_rows)}
</section>
<section aria-labelledby="s-mat">
<h2 id="s-mat">申请材料 <span class="en" lang="en">Materials</span></h2>
{_table("申请材料清单（已去重，标明免提交）", ["材料", "所需事项类别", "提交方式"], mat_rows)}
</section>
<section aria-labelledby="s-form">
<h2 id="s-form">一表填报 <span class="en" lang="en">One merged form</span></h2>
<p>{fields_html}</p>
</section>
<section aria-labelledby="s-steps">
<h2 id="s-steps">办理流程 <span class="en" lang="en">Steps</span></h2>
<ol class="steps">{steps_html}</ol>
</section>
<section aria-labelledby="s-time">
<h2 id="s-time">法定期限 <span class="en" lang="en">Statutory periods</span></h2>
{_table("申请前后的法定期限", ["期限", "天数", "依据"], period_rows) if period_rows else "<p>无。</p>"}
<p>承诺办结时限：{escape(guide.promised_text.zh) if guide.promised_text else ""}\
（按办理顺序和公示期的最长路径计算）。</p>
</section>
<section aria-labelledby="s-law">
<h2 id="s-law">法律依据 <span class="en" lang="en">Legal basis</span></h2>
<ul>{sources_html}</ul>
</section>
</main>
</body>
</html>
"""
