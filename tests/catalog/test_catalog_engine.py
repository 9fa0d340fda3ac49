"""The rules engine: table-driven over every entity type and route, blockers, routing, 422s."""

import msgspec
import pytest

from backend.catalog.engine import plan
from backend.catalog.formschema import check, validate_submission
from backend.catalog.loader import get_catalog
from backend.catalog.testing import FULL_ANSWERS, answers
from backend.lib.problems import ProblemError

CATALOG = get_catalog()
BRANCHES = {"company_branch", "noncorp_branch", "partnership_branch", "sole_branch", "coop_branch"}
ENTITY_TYPES = sorted(CATALOG.entity_types)


def submitted_materials(entity_type: str, route: str) -> set[str]:
    """What the applicant still hands in when no optional item applies (expected by the rules)."""
    out = {"application", "licence_return"}
    if route == "simplified":
        if entity_type != "individual":
            out.add("investors_commitment")
        return out
    if entity_type == "individual":
        return out
    out.add("partners_closure_decision" if entity_type == "partnership_branch" else "dissolution_resolution")
    if entity_type not in BRANCHES:
        out.add("liquidation_report")
    return out


def stage_of(entity_type: str, route: str) -> tuple[str | None, int]:
    """The timed stage the registration waits for: R Art. 33 ¶2 / D Art. 49 (20 days), ¶3 (10 days)."""
    if route == "general":
        return None, 0
    return ("individual_objection", 10) if entity_type == "individual" else ("simplified_publicity", 20)


@pytest.mark.parametrize("route", ["simplified", "general"])
@pytest.mark.parametrize("entity_type", ENTITY_TYPES)
def test_minimal_plan_for_every_entity_type_and_route(entity_type, route):
    et = CATALOG.entity_types[entity_type]
    p = plan(CATALOG, entity_type, "350102", answers(route=route))
    assert [i.code for i in p.items] == [et.tax_item, et.registration_item]
    assert p.can_submit and p.blockers == []
    assert p.route == route and p.catalog_version == "2026.1"
    stage, stage_days = stage_of(entity_type, route)
    if route == "general":
        # D Art. 46(4): the general route needs the clearance, so registration waits for tax.
        assert p.items[1].depends_on == [et.tax_item]
        assert p.promised_days == 11 and p.stage_days == 0
        assert p.critical_path == [et.tax_item, et.registration_item]
        # The shared clearance result always replaces the paper 清税证明.
        tax_cert = next(m for m in p.materials if m.code == "tax_clearance_certificate")
        assert tax_cert.waived and tax_cert.waiver.source == "item_result"
    else:
        # D Art. 47 (application + commitment only) and R Art. 33 ¶3 (no objection in 10 days):
        # registration waits for the timed stage, not for the tax clearance, which runs meanwhile.
        assert p.items[1].depends_on == []
        if entity_type == "individual":  # the 10-day window is shorter than the 10-working-day tax item
            assert (p.stage_days, p.promised_days) == (0, 10) and p.critical_path == [et.tax_item]
        else:
            assert (p.stage_days, p.promised_days) == (stage_days, 1)
            assert p.critical_path == [f"NOTICE:{stage}", et.registration_item]
        assert "tax_clearance_certificate" not in {m.code for m in p.materials}
        assert f"{p.stage_days}日" in p.promised_text.zh if p.stage_days else "个工作日" in p.promised_text.zh
    assert len(p.items) + len(p.not_applicable) == 19
    assert {m.code for m in p.materials if not m.waived} == submitted_materials(entity_type, route)
    assert p.route_eligibility.simplified.eligible and p.route_eligibility.general.eligible
    props = p.form["properties"]
    assert ("investors_commitment" in props) == (route == "simplified" and entity_type != "individual")
    assert ("liquidation_group_head" in props) == (
        route == "general" and entity_type not in BRANCHES and entity_type != "individual"
    )
    # R Art. 37 ¶3: the licence can be posted or announced void, so it alone needs no visit.
    assert p.reduction.visits.after == 0 and p.reduction.visit_reasons == []


@pytest.mark.parametrize("route", ["simplified", "general"])
@pytest.mark.parametrize("entity_type", ENTITY_TYPES)
def test_full_plan_for_every_entity_type_and_route(entity_type, route):
    p = plan(CATALOG, entity_type, "350503", {**FULL_ANSWERS, "route": route})
    codes = [i.code for i in p.items]
    assert codes[2:] == ["CUSTOMS", "SI-PENSION", "SI-UNEMPLOYMENT", "BANK", "SEAL"]
    reg = CATALOG.entity_types[entity_type].registration_item
    for item in p.items[2:]:
        assert item.depends_on == [reg]
    bank = next(i for i in p.items if i.code == "BANK")
    assert bank.quantity == 2
    assert p.form["properties"]["bank_accounts"]["minItems"] == 2
    customs = next(i for i in p.items if i.code == "CUSTOMS")
    assert customs.office.code == "customs-xm"  # 泉州 is served by 厦门海关
    # Two accounts close one round after the other, the basic account last (PBC Art. 49):
    # general: tax 10 + registration 1 + bank 2 = 13; simplified: the stage, then 1 + 2.
    stage, stage_days = stage_of(entity_type, route)
    if route == "general":
        assert (p.stage_days, p.promised_days) == (0, 13)
        assert p.critical_path == [p.items[0].code, reg, "BANK"]
    else:
        assert (p.stage_days, p.promised_days) == (stage_days, 3)
        assert p.critical_path == [f"NOTICE:{stage}", reg, "BANK"]
    assert p.not_applicable and all(n.code.startswith(("REG-", "TAX-")) for n in p.not_applicable)
    # Blank vouchers go back to the bank in person; seals and the licence have a zero-visit way.
    assert p.reduction.visits.after == 1
    assert [r.zh for r in p.reduction.visit_reasons] == ["须当面交回：未使用的重要空白票据和结算凭证（交回开户银行）"]


@pytest.mark.parametrize(
    ("region", "office"),
    [("350102", "customs-fz"), ("350128", "customs-fz"), ("350305", "customs-fz"), ("350402", "customs-fz"),
     ("350702", "customs-fz"), ("350902", "customs-fz"), ("350503", "customs-xm"), ("350602", "customs-xm"),
     ("350802", "customs-xm"), ("350500", "customs-xm")],
)  # fmt: skip
def test_customs_office_by_region(region, office):
    p = plan(CATALOG, "company", region, answers(has_customs_filing=True))
    item = next(i for i in p.items if i.code == "CUSTOMS")
    assert item.office.code == office and item.system.code == office
    assert item.routing_why.zh


def test_retired_region_code_is_normalised():
    assert plan(CATALOG, "company", "350402", answers()).region.code == "350404"


def test_xiamen_is_outside_the_default_jurisdiction():
    p = plan(CATALOG, "company", "350203", answers())
    assert not p.can_submit
    (b,) = p.blockers
    assert b.code == "outside_jurisdiction" and b.field == "region"
    assert "厦门" in b.message.zh and "厦门" in b.resolve.zh


def test_a_xiamen_deployment_serves_xiamen_and_routes_to_its_systems():
    p = plan(CATALOG, "company", "350203", answers(has_customs_filing=True), jurisdiction="xiamen")
    assert p.can_submit and p.jurisdiction == "xiamen"
    items = {i.code: i for i in p.items}
    assert items["TAX-UNIFIED"].system.code == "xm-tax"
    assert items["CUSTOMS"].office.code == "customs-xm"
    assert (
        plan(CATALOG, "company", "350102", answers(), jurisdiction="xiamen").blockers[0].code == "outside_jurisdiction"
    )


EXCLUSIONS = [
    ("on_abnormal_list", "simplified_excluded_abnormal_list"),
    ("equity_pledged_or_frozen", "simplified_excluded_equity_pledged_or_frozen"),
    ("has_outward_investments", "simplified_excluded_outward_investments"),
    ("under_investigation_or_litigation", "simplified_excluded_investigation_or_litigation"),
    ("revoked_or_closed", "simplified_excluded_revoked_or_closed"),
    ("unpaid_penalties", "simplified_excluded_unpaid_penalties"),
    ("listed_company", "simplified_excluded_listed_company"),
]


@pytest.mark.parametrize(("key", "code"), EXCLUSIONS)
def test_simplified_exclusion_blocks_the_simplified_route(key, code):
    p = plan(CATALOG, "company", "350102", answers(route="simplified", **{key: True}))
    assert not p.can_submit
    (b,) = p.blockers
    assert b.code == code and b.field == f"answers.{key}"
    assert b.message.zh and b.resolve.zh and b.legal_basis
    assert "普通注销" in b.resolve.zh or "后再" in b.resolve.zh
    assert not p.route_eligibility.simplified.eligible
    assert [r.code for r in p.route_eligibility.simplified.reasons] == [code]


@pytest.mark.parametrize(("key", "code"), EXCLUSIONS)
def test_simplified_exclusion_does_not_block_the_general_route(key, code):
    p = plan(CATALOG, "company", "350102", answers(route="general", **{key: True}))
    assert p.can_submit and p.blockers == []
    assert not p.route_eligibility.simplified.eligible
    assert p.route_eligibility.general.eligible


def test_exclusions_accumulate():
    p = plan(CATALOG, "company", "350102", answers(route="simplified", on_abnormal_list=True, unpaid_penalties=True))
    assert {b.code for b in p.blockers} == {"simplified_excluded_abnormal_list", "simplified_excluded_unpaid_penalties"}


@pytest.mark.parametrize("route", ["simplified", "general"])
@pytest.mark.parametrize("entity_type", ["company", "noncorp", "partnership", "sole", "foreign", "coop"])
def test_active_branches_block_the_parent_on_both_routes(entity_type, route):
    p = plan(CATALOG, entity_type, "350102", answers(route=route, active_branches=2))
    assert [b.code for b in p.blockers] == ["active_branches"]
    assert p.blockers[0].legal_basis == ["R Art. 32"]


def test_revoked_enterprise_on_general_route_files_the_revocation_document_and_gets_a_notice():
    p = plan(CATALOG, "company", "350102", answers(revoked_or_closed=True))
    assert "revocation_document" in {m.code for m in p.materials}
    assert "revoked_special_flag" in {n.code for n in p.notices}


def test_agent_adds_authorization_and_agent_fields():
    p = plan(CATALOG, "company", "350102", answers(via_agent=True))
    assert "agent_authorization" in {m.code for m in p.materials}
    assert {"agent_name", "agent_id_number"} <= set(p.form["properties"])
    assert "agent_name" not in plan(CATALOG, "company", "350102", answers()).form["properties"]


def test_facts_override_and_complete_answers():
    a = answers(has_customs_filing=False)
    del a["on_abnormal_list"]
    p = plan(CATALOG, "company", "350102", a, facts={"has_customs_filing": True, "on_abnormal_list": False})
    assert "CUSTOMS" in {i.code for i in p.items}
    assert p.answers["has_customs_filing"] is True


def test_not_applicable_items_say_why():
    p = plan(CATALOG, "company", "350102", answers())
    reasons = {n.code: n.reason.zh for n in p.not_applicable}
    assert "报关单位备案" in reasons["CUSTOMS"]
    assert "REG-COMPANY" in reasons["REG-INDIVIDUAL"]
    assert "TAX-UNIFIED" in reasons["TAX-INDIVIDUAL"]


def test_reduction_figures_are_computed_from_the_plan():
    p = plan(CATALOG, "company", "350102", {**FULL_ANSWERS, "route": "general"})
    r = p.reduction
    props = p.form["properties"]
    assert r.form_fields.before == sum(len(v["x-maps-to"]) for v in props.values())
    assert r.form_fields.after == len(props)
    assert r.materials.before == sum(len(m.needed_by) for m in p.materials)
    assert r.materials.after_dedupe == len(p.materials)
    assert r.materials.after_waivers == sum(not m.waived for m in p.materials)
    assert r.steps.before == 8 and r.steps.after == 1  # 7 items, BANK counted per account
    assert r.visits.before == 6 and r.visits.after == 1  # licence, seals and vouchers are handed in once
    assert r.form_fields.after < r.form_fields.before
    assert r.materials.after_waivers < r.materials.after_dedupe < r.materials.before


def test_form_is_json_schema_2020_12_with_valid_examples():
    p = plan(CATALOG, "company", "350102", {**FULL_ANSWERS, "route": "simplified", "via_agent": True})
    form = p.form
    assert form["$schema"] == "https://json-schema.org/draft/2020-12/schema"
    assert set(form["required"]) <= set(form["properties"])
    example = {}
    for key, prop in form["properties"].items():
        assert prop["title"] and any("\u4e00" <= ch <= "\u9fff" for ch in prop["title"]), key
        assert prop["type"] and len(prop["examples"]) == 1
        assert check(prop, prop["examples"][0]) == [], key
        example[key] = prop["examples"][0]
    validate_submission(form, example)
    accounts = example["bank_accounts"]
    assert [a["account_type"] for a in accounts] == ["general", "basic"]  # basic account last


def test_form_submission_errors_name_every_field():
    p = plan(CATALOG, "company", "350102", answers())
    with pytest.raises(ProblemError) as info:
        validate_submission(p.form, {"uscc": "91350102MA2Y0001X7", "contact_phone": "123", "extra": 1})
    exc = info.value
    assert exc.status == 422 and exc.code == "form_invalid"
    fields = {e.field for e in exc.errors}
    assert {"uscc", "contact_phone", "extra", "entity_name"} <= fields


def test_plan_serialises_to_json():
    p = plan(CATALOG, "company", "350102", FULL_ANSWERS)
    doc = msgspec.json.decode(msgspec.json.encode(p))
    assert doc["items"][0]["name"]["zh-CN"] == "一照一码户清税申报"
    assert {"catalog_version", "items", "not_applicable", "blockers", "route_eligibility", "materials", "form",
            "dependencies", "promised_days", "reduction"} <= set(doc)  # fmt: skip


@pytest.mark.parametrize(
    ("entity_type", "region", "changes", "code", "field"),
    [
        ("llc", "350102", {}, "unknown_entity_type", "entity_type"),
        ("company", "110105", {}, "region_outside_fujian", "region"),
        ("company", "350199", {}, "unknown_region", "region"),
        ("company", "350000", {}, "region_not_specific", "region"),
        ("company", "350102", {"colour": "red"}, "unknown_answer", "answers.colour"),
        ("company", "350102", {"bank_accounts": -1}, "invalid_answer", "answers.bank_accounts"),
        ("company", "350102", {"bank_accounts": True}, "invalid_answer", "answers.bank_accounts"),
        ("company", "350102", {"bank_accounts": 51}, "invalid_answer", "answers.bank_accounts"),
        ("company", "350102", {"active_branches": 1.5}, "invalid_answer", "answers.active_branches"),
        ("company", "350102", {"si_pension": "yes"}, "invalid_answer", "answers.si_pension"),
        ("company", "350102", {"route": "express"}, "invalid_answer", "answers.route"),
        ("individual", "350102", {"active_branches": 1}, "inconsistent_answer", "answers.active_branches"),
        ("company_branch", "350102", {"active_branches": 1}, "inconsistent_answer", "answers.active_branches"),
        ("partnership", "350102", {"listed_company": True}, "inconsistent_answer", "answers.listed_company"),
    ],
)
def test_malformed_or_inconsistent_input_is_422(entity_type, region, changes, code, field):
    with pytest.raises(ProblemError) as info:
        plan(CATALOG, entity_type, region, answers(**changes))
    exc = info.value
    assert exc.status == 422 and exc.code == code
    assert field in [e.field for e in exc.errors]


def test_missing_answers_are_all_reported():
    with pytest.raises(ProblemError) as info:
        plan(CATALOG, "company", "350102", {"route": "general"})
    assert info.value.code == "missing_answer"
    assert len(info.value.errors) == 13


def test_listed_but_unadministered_division_is_outside_the_jurisdiction():
    p = plan(CATALOG, "company", "350527", answers())  # 金门县: in GB/T 2260, not administered
    assert [b.code for b in p.blockers] == ["outside_jurisdiction"]


def test_a_situations_plan_is_worked_out_once_and_keyed_by_all_it_depends_on():
    """The case service keeps plans per situation (``backend.cases.common._plan``): the same
    situation gets the same plan, and any input that changes the plan gets its own."""
    from backend.cases.common import _plan

    a = msgspec.json.encode(answers(has_customs_filing=False)).decode()
    no_filing = (("has_customs_filing", False), ("on_abnormal_list", False))
    first = _plan(CATALOG.version, "company", "350102", a, no_filing, None)
    assert _plan(CATALOG.version, "company", "350102", a, no_filing, None) is first
    assert "CUSTOMS" not in {i.code for i in first.items}
    filed = _plan(
        CATALOG.version, "company", "350102", a, (("has_customs_filing", True), ("on_abnormal_list", False)), None
    )
    assert "CUSTOMS" in {i.code for i in filed.items}
    assert _plan(CATALOG.version, "company", "350103", a, no_filing, None).region.code == "350103"
    with pytest.raises(ProblemError):  # incomplete answers raise every time (nothing is kept)
        _plan(CATALOG.version, "company", "350102", "{}", no_filing, None)
