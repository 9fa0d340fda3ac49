"""The fixture dataset: coverage of the brief's situations, valid codes, reproducible generation."""

from __future__ import annotations

import json

import pytest

from backend.catalog import get_catalog
from backend.fixtures import DATASET_PATH, load_fixtures
from backend.fixtures.generate import build
from backend.lib.validators import validate_id_number, validate_phone, validate_uscc

ENTITY_TYPES = {
    "company",
    "company_branch",
    "noncorp",
    "noncorp_branch",
    "partnership",
    "partnership_branch",
    "sole",
    "sole_branch",
    "foreign",
    "coop",
    "coop_branch",
    "individual",
}


def test_every_code_validates(data):
    for e in data.enterprises:
        assert validate_uscc(e.uscc) == e.uscc
        assert e.uscc[2:8] == e.region
    for p in data.people:
        assert validate_id_number(p.id_number) == p.id_number
        assert validate_phone(p.phone) == p.phone
    assert len({e.uscc for e in data.enterprises}) == len(data.enterprises)
    assert len({p.id_number for p in data.people}) == len(data.people)


def test_regions_are_fujian_divisions(data):
    from backend.catalog.loader import validate_division

    for e in data.enterprises:
        assert validate_division(e.region) == e.region


def test_coverage(data):
    es = data.enterprises
    assert len(es) >= 40
    assert {e.entity_type for e in es} == ENTITY_TYPES
    assert {e.route for e in es} == {"simplified", "general"}
    assert {e.region[:4] for e in es} >= {"3501", "3502", "3503", "3504", "3505", "3506", "3507", "3508", "3509"}
    assert any(e.region == "350128" for e in es)  # Pingtan
    blockers = {b for e in es for b in e.blockers}
    assert blockers >= {
        "tax_arrears",
        "uncancelled_invoices",
        "pending_customs_declarations",
        "si_arrears",
        "active_branches",
        "abnormal_list",
        "pledged_equity",
        "outward_investments",
    }
    assert any(e.seals for e in es) and any(len({a.bank_code[:3] for a in e.bank_accounts}) >= 3 for e in es)
    assert all(sum(a.kind == "basic" for a in e.bank_accounts) == 1 for e in es if e.bank_accounts)
    assert any(e.foreign_country for e in es if e.entity_type == "foreign")
    assert any(e.corrections for e in es)


def test_people_and_personas_are_consistent(data):
    people = {p.id for p in data.people}
    usccs = {e.uscc for e in data.enterprises}
    for e in data.enterprises:
        assert e.actors and all(a.person_id in people for a in e.actors)
        assert e.parent_uscc is None or e.parent_uscc in usccs
        assert all(b in usccs for b in e.branches + e.outward_investments)
        if e.route == "general" and not e.entity_type.endswith("_branch") and e.entity_type != "individual":
            assert any(a.role == "liquidation_head" for a in e.actors)
    kinds = {p.kind for p in data.personas}
    assert kinds == {"applicant", "staff", "window", "admin", "tester"}
    for p in data.personas:
        assert p.person_id is None or p.person_id in people
        assert all(u in usccs for u in p.enterprises)
        if p.kind == "applicant":
            assert p.enterprises
    agent = next(p for p in data.personas if "agent" in p.roles)
    assert len(agent.enterprises) >= 3


def test_generator_reproduces_the_committed_dataset():
    assert build() == json.loads(DATASET_PATH.read_text(encoding="utf-8"))


def test_foreign_fixtures_are_foreign_enterprises_in_business_not_representative_offices():
    """外国（地区）企业在中国境内从事生产经营活动 is its own registration type; a 代表处 is another."""
    foreign = [e for e in load_fixtures().enterprises if e.entity_type == "foreign"]
    assert foreign and all("代表处" not in e.name and e.foreign_country for e in foreign)


@pytest.mark.parametrize("scenario", ["several_bank_accounts", "seals_on_file_both_systems", "happy_path_all_items"])
def test_multi_account_and_two_seal_fixtures_run_on_the_provincial_deployment(scenario):
    """The default (provincial) deployment serves Fujian except Xiamen, so these must sit outside 3502."""
    e = next(e for e in load_fixtures().enterprises if e.scenario == scenario)
    assert get_catalog().default_jurisdiction.serves(e.region), e.region
