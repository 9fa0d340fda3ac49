"""Facts of the merged form that come from the register (市场主体登记档案) and are not changed here.

The form shows them read-only with their source instead of as inputs. They are given for the
fields the draft's *plan* asks for, never at draft creation: a draft's form data is not pruned to
its plan's form, so a field only one route asks for (清算组负责人 on the general route) put into
every draft made the simplified route's form invalid (不允许的字段) and its signing refused. The
form page saves them with the rest of the form, so what is submitted is what the register says.
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Controller, get
from litestar.params import FromPath

from backend.cases.service import ActorDep
from backend.platform import PlatformDep
from backend.registration import EnterpriseRecord

# roles in the register (Party.role) whose person fills a form field
ROLE_FIELDS = {"legal_rep": ("legal_rep_name", "legal_rep_id_number"), "liquidation_head": ("liquidation_group_head",)}


class RegisterFacts(msgspec.Struct):
    """Form fields (of the draft's plan) whose values come from the business register."""

    fields: dict[str, Any]


def register_values(record: EnterpriseRecord) -> dict[str, Any]:
    """Every form value the register records for ``record``."""
    values: dict[str, Any] = {"uscc": record.uscc, "entity_name": record.name, "region": record.region}
    for role, keys in ROLE_FIELDS.items():
        party = next((p for p in record.parties if p.role == role), None)
        if party is None:
            continue
        values[keys[0]] = party.name
        if len(keys) > 1 and party.id_number:
            values[keys[1]] = party.id_number
    if record.customs_code:
        values["customs_code"] = record.customs_code
    return values


def facts_for_form(record: EnterpriseRecord, form: dict[str, Any] | None) -> dict[str, Any]:
    """The register's values for the fields ``form`` (a plan's JSON Schema) asks for; none without a plan."""
    asked = set((form or {}).get("properties") or {})
    return {k: v for k, v in register_values(record).items() if k in asked}


class RegisterFactsController(Controller):
    path = "/api/v1/cases/{case_id:str}/register-facts"
    tags = ["cases"]

    @get("/", summary="Form fields of the draft's plan whose values come from the business register (read-only)")
    async def read(self, platform: PlatformDep, actor: ActorDep, case_id: FromPath[str]) -> RegisterFacts:
        row = await platform.cases.case_for(actor, case_id, "read")
        plan, _ = await platform.cases.plan_for(row)
        record = await platform.registration.enterprise(row["uscc"])
        if record is None or plan is None:
            return RegisterFacts(fields={})
        return RegisterFacts(fields=facts_for_form(record, plan.form))
