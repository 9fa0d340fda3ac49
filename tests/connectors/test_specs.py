"""The published interface standards (openapi.yaml) are current and agree with the code."""

from __future__ import annotations

import yaml

from backend.connectors import specgen
from backend.connectors.registry import all_specs, connector_class
from backend.connectors.rules import SimContext, run_checks
from backend.connectors.samples import payload_for
from backend.connectors.ytz_bank.connector import BankConnector
from backend.sandbox.simulator import create_simulator_app


def test_committed_openapi_documents_are_current():
    assert specgen.main(["--check"]) == 0


def test_every_system_has_a_spec_document_matching_its_simulator():
    docs = {path.parent.name: yaml.safe_load(text) for path, text in specgen.documents().items()}
    for code, spec in all_specs().items():
        doc = docs[spec.package]
        assert doc["openapi"] == "3.1.0" and code in doc["x-system-codes"]
        app = create_simulator_app(code)
        served = {route.path.replace(":str", "") for route in app.routes}
        for path in doc["paths"]:
            assert path in served, (code, path)
        assert "itemResult" in doc["webhooks"]


def test_business_reason_codes_are_documented(data):
    for code, spec in all_specs().items():
        documented = {c for check in spec.checks for c in specgen.BUSINESS_REASONS[check]}
        for e in data.enterprises:
            for stateful in (True, False):
                reasons = run_checks(
                    spec.checks, e, payload_for(spec, e, data), SimContext(system=code, stateful=stateful)
                )
                assert {r.code for r in reasons} <= documented, (code, e.scenario)


def test_only_the_bank_needs_its_own_connector_class():
    classes = {code: connector_class(spec) for code, spec in all_specs().items()}
    assert classes.pop("ytz-bank") is BankConnector
    assert {c.__name__ for c in classes.values()} == {"HttpConnector"}


def test_bank_split_orders_basic_last():
    from backend.connectors.base import Submission

    sub = Submission(
        case_number="C",
        item_code="BANK",
        item_ref="C/BANK",
        uscc="U",
        region="350102",
        payload={},
        callback_url="http://x",
        idempotency_key="k",
    )
    accounts = [
        {"account_no": "1", "kind": "basic"},
        {"account_no": "2", "kind": "general"},
        {"account_no": "3", "kind": "temporary"},
    ]
    out = BankConnector.split(sub, accounts)
    assert [s.payload["account"]["account_no"] for s in out] == ["3", "2", "1"]
    assert len({s.item_ref for s in out}) == 3 and len({s.idempotency_key for s in out}) == 3


def test_catalog_systems_all_have_connectors(data):
    """Every system the catalog routes to, for every fixture enterprise's region, has a connector."""
    from backend.catalog.loader import get_catalog, route_for

    catalog = get_catalog()
    specs = all_specs()
    assert set(catalog.systems) <= set(specs), set(catalog.systems) - set(specs)
    for item in catalog.items.values():
        assert item.code in {c for s in specs.values() for c in s.items}, item.code
        assert set(item.also_systems) <= set(specs)
        for e in data.enterprises:
            system, office = item.system, None
            if item.routing:
                rule = route_for(catalog.routing[item.routing], e.region)
                if rule:
                    system, office = rule.system or system, rule.office
            assert (office or system) in specs, (item.code, e.region, system, office)
