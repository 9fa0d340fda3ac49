"""Valid submissions for fixture enterprises (used by tests, the conformance kit and load scripts)."""

from __future__ import annotations

import uuid
from typing import Any

from backend.connectors.base import Submission
from backend.connectors.spec import SystemSpec
from backend.fixtures import BankAccount, Dataset, Enterprise

#: The registration (REG-*) item of each entity type.
REG_ITEM = {
    "company": "REG-COMPANY",
    "company_branch": "REG-COMPANY-BRANCH",
    "noncorp": "REG-NONCORP",
    "noncorp_branch": "REG-NONCORP-BRANCH",
    "partnership": "REG-PARTNERSHIP",
    "partnership_branch": "REG-PARTNERSHIP-BRANCH",
    "sole": "REG-SOLE",
    "sole_branch": "REG-SOLE-BRANCH",
    "foreign": "REG-FOREIGN",
    "coop": "REG-COOP",
    "coop_branch": "REG-COOP-BRANCH",
    "individual": "REG-INDIVIDUAL",
}


def item_code_for(spec: SystemSpec, e: Enterprise) -> str:
    """The item this system handles for this enterprise."""
    if spec.code in ("etax", "xm-tax"):
        return "TAX-INDIVIDUAL" if e.entity_type == "individual" else "TAX-UNIFIED"
    if spec.code == "amr":
        return REG_ITEM[e.entity_type]
    return spec.items[0]


def payload_for(
    spec: SystemSpec,
    e: Enterprise,
    data: Dataset,
    *,
    account: BankAccount | None = None,
    registration_reference: str = "AMR-SAMPLE-000001",
    tax_clearance_reference: str = "ETAX-SAMPLE-000001",
) -> dict[str, Any]:
    """A payload meeting ``spec`` for enterprise ``e`` (the first actor applies)."""
    actor = e.actors[0]
    person = data.person(actor.person_id)
    assert person is not None
    payload: dict[str, Any] = {
        "enterprise_name": e.name,
        "entity_type": e.entity_type,
        "route": e.route,
        "applicant": {"name": person.name, "id_number": person.id_number, "role": actor.role, "phone": person.phone},
    }
    names = {f.name for f in spec.payload}
    if "tax_registration_region" in names:
        payload["tax_registration_region"] = e.region
    if "tax_clearance_reference" in names:
        payload["tax_clearance_reference"] = tax_clearance_reference
        if e.route == "simplified":
            payload["investors_commitment"] = True
    if "registration_result" in names:
        payload["registration_result"] = {"reference": registration_reference, "deregistered_on": "2026-11-26"}
    if "customs_code" in names and e.customs_code:
        payload["customs_code"] = e.customs_code
    if "seal_numbers" in names:
        payload["seal_numbers"] = [s.seal_no for s in e.seals if s.system == spec.code]
    if "account" in names:
        acc = account or (
            e.bank_accounts[0]
            if e.bank_accounts
            else BankAccount("6222000000000000", "102391000001", "测试银行", "basic")
        )
        payload["account"] = {
            "account_no": acc.account_no,
            "bank_code": acc.bank_code,
            "bank_name": acc.bank_name,
            "kind": acc.kind,
        }
    return payload


def submission_for(
    spec: SystemSpec,
    e: Enterprise,
    data: Dataset,
    callback_url: str,
    *,
    case_number: str | None = None,
    item_ref: str | None = None,
    idempotency_key: str | None = None,
    **payload_options: Any,
) -> Submission:
    """A complete, valid submission of this system's item for ``e``."""
    case = case_number or f"FJZX-TEST-{uuid.uuid4().hex[:8].upper()}"
    code = item_code_for(spec, e)
    return Submission(
        case_number=case,
        item_code=code,
        item_ref=item_ref or f"{case}/{code}/{uuid.uuid4().hex[:8]}",
        uscc=e.uscc,
        region=e.region,
        payload=payload_for(spec, e, data, **payload_options),
        callback_url=callback_url,
        idempotency_key=idempotency_key or uuid.uuid4().hex,
    )


def pick_enterprises(spec: SystemSpec, data: Dataset) -> tuple[Enterprise, Enterprise | None]:
    """(an enterprise this system completes, one it rejects for business reasons) from the fixtures."""
    from backend.connectors.rules import SimContext, run_checks

    ok, blocked, blocked_later = None, None, None
    for e in data.enterprises:
        if e.corrections:
            continue
        payload = payload_for(spec, e, data)
        reasons = run_checks(spec.checks, e, payload, SimContext(system=spec.code))
        visible = run_checks(spec.checks, e, payload, SimContext(system=spec.code, stateful=False))
        if not reasons and ok is None and not (spec.per_account and len(e.bank_accounts) > 1):
            ok = e
        if reasons and visible and blocked is None:
            blocked = e  # pre-check shows it too
        if reasons and blocked_later is None:
            blocked_later = e
    assert ok is not None, f"no fixture enterprise passes {spec.code}"
    return ok, blocked or blocked_later
