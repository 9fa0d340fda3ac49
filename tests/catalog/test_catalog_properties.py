"""Property tests: every plan the engine can produce is internally consistent."""

import msgspec
from hypothesis import given, settings
from hypothesis import strategies as st

from backend.catalog.engine import plan
from backend.catalog.formschema import check, validate_submission
from backend.catalog.loader import get_catalog, get_divisions

CATALOG = get_catalog()
REGIONS = sorted(d.code for d in get_divisions().all() if d.level != "province" and d.administered)


@st.composite
def situations(draw):
    et = draw(st.sampled_from(sorted(CATALOG.entity_types)))
    entity = CATALOG.entity_types[et]
    answers = {
        "route": draw(st.sampled_from(["simplified", "general"])),
        "bank_accounts": draw(st.integers(0, 6)),
        "active_branches": draw(st.integers(0, 3)) if entity.can_have_branches else 0,
        "listed_company": draw(st.booleans()) if et == "company" else False,
    }
    for key in ("has_customs_filing", "si_pension", "si_unemployment", "has_seals_on_file", "on_abnormal_list",
                "equity_pledged_or_frozen", "has_outward_investments", "under_investigation_or_litigation",
                "revoked_or_closed", "unpaid_penalties"):  # fmt: skip
        answers[key] = draw(st.booleans())
    if draw(st.booleans()):
        answers["via_agent"] = draw(st.booleans())
    return et, draw(st.sampled_from(REGIONS)), answers


def is_acyclic(nodes, edges) -> bool:
    indegree = dict.fromkeys(nodes, 0)
    for item, _dep in edges:
        indegree[item] += 1
    ready = [n for n, d in indegree.items() if d == 0]
    seen = 0
    while ready:
        n = ready.pop()
        seen += 1
        for item, dep in edges:
            if dep == n:
                indegree[item] -= 1
                if indegree[item] == 0:
                    ready.append(item)
    return seen == len(nodes)


def longest(p, edges) -> tuple[int, int]:
    """(calendar days of the stage waited for, working days): an oracle written from the law.

    Simplified route: registration starts after the 20-day publicity (R Art. 33 ¶2, D Art. 49),
    10 days for individual businesses (¶3); several bank accounts take two rounds (PBC Art. 49).
    Paths are compared by their working-day equivalent (a calendar day ~ 5/7 of a working day).
    """
    stage = 0
    if p.route == "simplified":
        stage = 10 if p.entity_type == "individual" else 20
    days = {i.code: i.promised_days * (2 if i.code == "BANK" and i.quantity >= 2 else 1) for i in p.items}
    matter = {i.code: i.matter for i in p.items}
    memo: dict[str, tuple[int, int]] = {}

    def weight(v):
        return -(-v[0] * 5 // 7) + v[1]

    def finish(code):
        if code not in memo:
            starts = [finish(d) for i, d in edges if i == code]
            if stage and matter[code] == "registration":
                starts.append((stage, 0))
            best = max(starts, key=weight, default=(0, 0))
            memo[code] = (best[0], best[1] + days[code])
        return memo[code]

    return max((finish(c) for c in days), key=weight, default=(0, 0))


@settings(max_examples=300, deadline=None)
@given(situations())
def test_every_plan_is_consistent(situation):
    entity_type, region, answers = situation
    p = plan(CATALOG, entity_type, region, answers)
    applicable = {i.code for i in p.items}
    et = CATALOG.entity_types[entity_type]

    # Items: the entity's own tax and registration items, and a partition of all 19.
    assert {et.tax_item, et.registration_item} <= applicable
    assert applicable.isdisjoint({n.code for n in p.not_applicable})
    assert applicable | {n.code for n in p.not_applicable} == set(CATALOG.items)
    assert sum(1 for c in applicable if c.startswith("REG-")) == 1

    # Dependencies exist among applicable items and are acyclic; depends_on mirrors the edges.
    edges = [(e.item, e.depends_on) for e in p.dependencies]
    assert all(a in applicable and b in applicable for a, b in edges)
    assert is_acyclic(applicable, edges)
    for item in p.items:
        assert sorted(item.depends_on) == sorted(b for a, b in edges if a == item.code)
    assert (p.stage_days, p.promised_days) == longest(p, edges)
    assert p.critical_path[0] in (et.tax_item, "NOTICE:simplified_publicity", "NOTICE:individual_objection")
    assert p.critical_path[-1] in applicable

    # Materials: each needed by at least one applicable item, listed once.
    codes = [m.code for m in p.materials]
    assert len(codes) == len(set(codes))
    for m in p.materials:
        assert m.needed_by and set(m.needed_by) <= applicable
        assert m.waived == (m.waiver is not None)

    # Form: every field maps to an applicable item; every example satisfies its own constraints.
    props = p.form["properties"]
    assert set(p.form["required"]) <= set(props)
    example = {}
    for key, prop in props.items():
        assert prop["x-maps-to"] and set(prop["x-maps-to"]) <= applicable, key
        assert check(prop, prop["examples"][0]) == [], key
        example[key] = prop["examples"][0]
    validate_submission(p.form, example)

    # Blockers decide submission; exclusions only block the simplified route.
    assert p.can_submit == (not p.blockers)
    exclusion_blockers = {b.code for b in p.blockers if b.code.startswith("simplified_excluded_")}
    if answers["route"] == "general":
        assert not exclusion_blockers
    else:
        assert exclusion_blockers == {r.code for r in p.route_eligibility.simplified.reasons} - {"no_exclusion"}
    assert ("active_branches" in {b.code for b in p.blockers}) == (answers["active_branches"] > 0)
    in_xiamen = p.region.code.startswith("3502")
    assert ("outside_jurisdiction" in {b.code for b in p.blockers}) == in_xiamen

    # Reductions never increase anything.
    r = p.reduction
    assert r.form_fields.after <= r.form_fields.before
    assert r.materials.after_waivers <= r.materials.after_dedupe <= r.materials.before
    assert r.steps.after <= r.steps.before and r.visits.after <= r.visits.before

    msgspec.json.encode(p)
