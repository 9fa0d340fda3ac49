"""The rules the law and the work plan state, one row per rule, each naming its source."""

import pytest

from backend.catalog.engine import plan
from backend.catalog.guide import build_guide
from backend.catalog.loader import get_catalog
from backend.catalog.testing import FULL_ANSWERS, answers

CATALOG = get_catalog()


def materials(p) -> set[str]:
    return {m.code for m in p.materials}


def period_codes(entity_type: str, route: str = "general") -> dict[str, int]:
    g = build_guide(CATALOG, entity_type, route)
    return {p.code: p.days for p in g.periods}


# (source, entity type, answers, material expected, material absent)
MATERIAL_RULES = [
    ("R Art. 31 ¶2: approval document where approval is required", "company",
     {"approval_required": True}, "approval_document", None),
    ("D Art. 46 ¶2: the court's appointment of the liquidator", "company",
     {"court_appointed_liquidator": True}, "court_appointment", None),
    ("D Art. 46 ¶3: a merger or split needs no liquidation report", "company",
     {"merger_or_split": True}, None, "liquidation_report"),
    ("R Art. 34: filing with the court's ruling ending the proceedings", "company",
     {"court_procedure_ended": True}, "court_termination_ruling", "liquidation_report"),
    ("R Art. 34: no dissolution resolution besides the court's ruling", "company",
     {"court_procedure_ended": True}, "court_termination_ruling", "dissolution_resolution"),
    ("D Art. 46(4): the general route lists the tax clearance", "company", {}, "tax_clearance_certificate", None),
    ("D Art. 47: simplified route, application and commitment only", "company",
     {"route": "simplified"}, "investors_commitment", "tax_clearance_certificate"),
]  # fmt: skip


@pytest.mark.parametrize(
    ("source", "entity_type", "given", "needed", "absent"), MATERIAL_RULES, ids=[r[0] for r in MATERIAL_RULES]
)
def test_materials_follow_the_law(source, entity_type, given, needed, absent):
    p = plan(CATALOG, entity_type, "350102", answers(**{"route": "general", **given}))
    if needed:
        assert needed in materials(p), source
    if absent:
        assert absent not in materials(p), source


# (source, answer key, blocker code on the simplified route)
EXCLUSIONS = [
    ("R Art. 33 ¶4: approval needed excludes the simplified route", "approval_required",
     "simplified_excluded_approval_required"),
    ("R Art. 34: court-ended liquidation or bankruptcy files directly", "court_procedure_ended",
     "simplified_excluded_court_procedure"),
]  # fmt: skip


@pytest.mark.parametrize(("source", "key", "code"), EXCLUSIONS, ids=[r[0] for r in EXCLUSIONS])
def test_simplified_route_exclusions(source, key, code):
    p = plan(CATALOG, "company", "350102", answers(route="simplified", **{key: True}))
    assert code in {b.code for b in p.blockers} and not p.can_submit, source
    assert not p.route_eligibility.simplified.eligible
    g = plan(CATALOG, "company", "350102", answers(route="general", **{key: True}))
    assert g.can_submit, source


# (source, entity type, period code, days, present?)
PERIODS = [
    ("C Art. 235: company creditors declare within 45 days", "company", "creditor_notice", 45, True),
    ("R Art. 32: company files within 30 days after liquidation", "company", "file_after_liquidation", 30, True),
    ("SOLE Art. 27: creditors of a sole proprietorship, 60 days from the notice", "sole", "sole_creditor_notice", 60,
     True),
    ("SOLE Art. 32: a sole proprietorship files within 15 days", "sole", "sole_file_after_liquidation", 15, True),
    ("SOLE: the company's 45 days do not apply", "sole", "creditor_notice", 45, False),
    ("SOLE: the 30-day filing of R Art. 32 yields to SOLE Art. 32", "sole", "file_after_liquidation", 30, False),
    ("SOLE Art. 27: the investor liquidates; no liquidation group to publish", "sole", "publish_liquidation_group",
     10, False),
    ("PART Art. 88: partnership creditors, 45 days from the newspaper notice", "partnership",
     "partnership_creditor_notice", 45, True),
    ("PART Art. 90: a partnership files within 15 days of the report", "partnership",
     "partnership_file_after_liquidation", 15, True),
    ("PART Art. 86: partners appoint the liquidator within 15 days", "partnership", "partnership_appoint_liquidator",
     15, True),
    ("PART: the company's 45 days do not apply", "partnership", "creditor_notice", 45, False),
    ("PART: the 30-day filing yields to PART Art. 90", "partnership", "file_after_liquidation", 30, False),
]  # fmt: skip


@pytest.mark.parametrize(("source", "entity_type", "code", "days", "present"), PERIODS, ids=[r[0] for r in PERIODS])
def test_periods_by_entity_type(source, entity_type, code, days, present):
    found = period_codes(entity_type)
    assert (found.get(code) == days) if present else (code not in found), source


def test_simplified_route_is_one_story_in_guide_plan_and_case():
    """R Art. 33 ¶2 / D Art. 49: apply once, then 20 days of publicity, then the registrar application."""
    g = build_guide(CATALOG, "company", "simplified")
    steps = [s.code for s in g.steps]
    assert steps.index("commitment") < steps.index("apply") < steps.index("simplified_publicity")
    assert g.stage_days == 20 and "公示期20日" in g.promised_text.zh
    p = plan(CATALOG, "company", "350102", {**FULL_ANSWERS, "route": "simplified", "bank_accounts": 3})
    # the bug: a simplified company with three accounts showed 12 working days and no publicity
    assert (p.stage_days, p.promised_days) == (20, 3)
    assert p.critical_path[0] == "NOTICE:simplified_publicity"
    period = next(x for x in CATALOG.periods if x.code == "simplified_publicity")
    assert period.blocks == ["registration"]  # the case's notice stage holds the registration item


def test_individual_simplified_route_pushes_without_publicity():
    """R Art. 33 ¶3: no publicity; departments have 10 days to object; tax clearance does not gate it."""
    g = build_guide(CATALOG, "individual", "simplified")
    assert "simplified_publicity" not in [s.code for s in g.steps]
    assert "individual_push" in [s.code for s in g.steps]
    assert {p.code: p.days for p in g.periods}["individual_objection"] == 10
    p = plan(CATALOG, "individual", "350102", answers(route="simplified"))
    reg = next(i for i in p.items if i.code == "REG-INDIVIDUAL")
    assert reg.depends_on == []


def test_commitment_carries_the_full_wording_of_article_33():
    """R Art. 33 ¶1: debts, settlement costs, wages, social insurance, compensation, taxes with late fees and fines."""
    name = CATALOG.materials["investors_commitment"].name.zh
    for words in (
        "债权债务",
        "清偿费用",
        "职工工资",
        "社会保险费用",
        "法定补偿金",
        "应缴纳税款（滞纳金、罚款）",
        "真实性",
    ):
        assert words in name


ZERO_VISIT = [
    ("R Art. 37 ¶3: an unreturned licence is announced void", "licence_return", "R Art. 37"),
    ("FJ work plan: seals deregistered on the pushed result", "seals", "FJ"),
]


@pytest.mark.parametrize(("source", "code", "basis"), ZERO_VISIT, ids=[r[0] for r in ZERO_VISIT])
def test_zero_visit_ways(source, code, basis):
    m = CATALOG.materials[code]
    assert m.physical and m.zero_visit is not None and basis in m.zero_visit_basis, source


def test_a_plan_without_bank_accounts_needs_no_visit_and_one_with_them_says_why():
    none = plan(CATALOG, "company", "350102", {**FULL_ANSWERS, "bank_accounts": 0})
    assert none.reduction.visits.after == 0 and none.reduction.visit_reasons == []
    some = plan(CATALOG, "company", "350102", FULL_ANSWERS)
    assert some.reduction.visits.after == 1 and "空白票据" in some.reduction.visit_reasons[0].zh


def test_unverified_rules_say_so_in_the_data():
    flagged = {p.code for p in CATALOG.periods if p.unverified} | {
        m.code for m in CATALOG.materials.values() if m.unverified
    }
    assert {
        "creditor_notice",
        "sole_creditor_notice",
        "sole_file_after_liquidation",
        "seals",
        "blank_vouchers",
    } <= flagged
