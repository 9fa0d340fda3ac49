"""A fixture enterprise's applicable items all reach ``completed`` through the simulators."""

from __future__ import annotations

import asyncio

import msgspec
import pytest
from connectors_support import callback_url, make_connector, stats

from backend.catalog.loader import get_catalog, route_for
from backend.connectors.base import Submission
from backend.connectors.registry import all_specs
from backend.connectors.samples import submission_for
from backend.connectors.ytz_bank.connector import BankConnector

pytestmark = pytest.mark.usefixtures("reset_sims")


def _enterprise(data, scenario):
    return next(e for e in data.enterprises if e.scenario == scenario)


async def _run(env, receiver, data, platform_key, e, *, case="FJZX-2026-000001"):
    """Tax, then registration, then every follow-up matter in parallel (bank: basic account last)."""
    specs = all_specs()
    systems = {code: make_connector(env, code, platform_key) for code in specs}
    results = {}

    async def one(system: str, sub: Submission, resubmit_on_correction: bool = True):
        conn = systems[system]
        ack = await conn.submit(sub)
        assert ack.status == "accepted", ack
        after = 0
        while True:
            final = await _final(receiver, sub.item_ref, after)
            after = final.sequence
            if final.outcome == "correction_requested" and resubmit_on_correction:
                fixed = msgspec.structs.replace(
                    sub, idempotency_key=sub.idempotency_key + "-c1", payload={**sub.payload, "corrected": True}
                )
                await conn.resubmit(final.reference, fixed)
                resubmit_on_correction = False
                continue
            results[sub.item_ref] = final
            return final

    try:
        tax_system = routed("TAX-UNIFIED", e.region)
        tax = await one(
            tax_system,
            submission_for(
                specs[tax_system], e, data, callback_url(env, tax_system), case_number=case, item_ref=f"{case}/TAX"
            ),
        )
        assert tax.outcome == "completed", tax
        reg = await one(
            "amr",
            submission_for(
                specs["amr"],
                e,
                data,
                callback_url(env, "amr"),
                case_number=case,
                item_ref=f"{case}/REG",
                tax_clearance_reference=tax.reference,
            ),
        )
        assert reg.outcome == "completed", reg
        follow_ups = []
        opts = {"case_number": case, "registration_reference": reg.reference}
        if e.customs_filed:
            s = routed("CUSTOMS", e.region)
            follow_ups.append(
                one(s, submission_for(specs[s], e, data, callback_url(env, s), item_ref=f"{case}/CUSTOMS", **opts))
            )
        for flag, s in ((e.si_pension, "si-pension"), (e.si_unemployment, "si-unemployment")):
            if flag:
                follow_ups.append(
                    one(s, submission_for(specs[s], e, data, callback_url(env, s), item_ref=f"{case}/{s}", **opts))
                )
        for s in ("seal-security", "seal-online"):
            if any(seal.system == s for seal in e.seals):
                follow_ups.append(
                    one(s, submission_for(specs[s], e, data, callback_url(env, s), item_ref=f"{case}/{s}", **opts))
                )

        async def bank():
            base = submission_for(
                specs["ytz-bank"], e, data, callback_url(env, "ytz-bank"), item_ref=f"{case}/BANK", **opts
            )
            subs = BankConnector.split(base, [msgspec.to_builtins(a) for a in e.bank_accounts])
            assert subs[-1].payload["account"]["kind"] == "basic"
            others, basic = subs[:-1], subs[-1]
            await asyncio.gather(*(one("ytz-bank", s) for s in others))
            await one("ytz-bank", basic)

        if e.bank_accounts:
            follow_ups.append(bank())
        await asyncio.gather(*follow_ups)
        return results
    finally:
        for conn in systems.values():
            await conn.aclose()


def routed(item_code: str, region: str) -> str:
    """The connector the catalog's routing picks for an item in a region (as a case's plan does)."""
    catalog = get_catalog()
    item = catalog.items[item_code]
    system, office = item.system, None
    if item.routing and (rule := route_for(catalog.routing[item.routing], region)):
        system, office = rule.system or system, rule.office
    return office or system


async def _final(receiver, item_ref, after=0, timeout=10.0):
    """The first terminal event with a sequence above ``after``."""
    loop = asyncio.get_running_loop()
    deadline = loop.time() + timeout
    while loop.time() < deadline:
        events = sorted(receiver.for_ref(item_ref), key=lambda ev: ev.sequence)
        terminal = [
            ev
            for ev in events
            if ev.sequence > after and ev.outcome in ("completed", "rejected", "correction_requested")
        ]
        if terminal:
            return terminal[-1]
        await asyncio.sleep(0.01)
    raise AssertionError(f"no final outcome for {item_ref}")


@pytest.mark.asyncio
async def test_every_applicable_item_completes(env, receiver, data, platform_key):
    e = _enterprise(data, "happy_path_all_items")
    results = await _run(env, receiver, data, platform_key, e)
    # tax, registration, customs, 2 social insurance, 3 bank accounts, 2 seal systems
    assert len(results) == 10
    assert all(r.outcome == "completed" for r in results.values()), {k: v.outcome for k, v in results.items()}
    assert all(stats(env, code)["duplicates"] == 0 for code in all_specs())


@pytest.mark.asyncio
async def test_xiamen_enterprise_routes_to_xiamen_systems(env, receiver, data, platform_key):
    e = _enterprise(data, "xiamen_clean")
    results = await _run(env, receiver, data, platform_key, e, case="FJZX-2026-000002")
    systems = {r.system for r in results.values()}
    assert {"xm-tax", "customs-xm"} <= systems and not {"etax", "customs-fz"} & systems
    assert all(r.outcome == "completed" for r in results.values())


@pytest.mark.asyncio
async def test_correction_then_completion(env, receiver, data, platform_key):
    e = _enterprise(data, "correction_on_registration")
    results = await _run(env, receiver, data, platform_key, e, case="FJZX-2026-000003")
    assert results["FJZX-2026-000003/REG"].outcome == "completed"
    events = receiver.for_ref("FJZX-2026-000003/REG")
    requested = [ev for ev in events if ev.outcome == "correction_requested"]
    assert requested and requested[0].corrections[0].name == "liquidation_report"
    assert stats(env, "amr")["corrections"] == 1


@pytest.mark.asyncio
async def test_parent_waits_for_branch(env, receiver, data, platform_key):
    specs = all_specs()
    branch = _enterprise(data, "branch_first_then_parent")
    parent = data.enterprise(branch.parent_uscc)
    conn = make_connector(env, "amr", platform_key)
    try:
        first = submission_for(specs["amr"], parent, data, callback_url(env, "amr"), item_ref="P1/REG")
        await conn.submit(first)
        rejected = await receiver.wait_for("P1/REG", "rejected")
        assert [r.code for r in rejected.reasons] == ["active_branches"]
        await conn.submit(submission_for(specs["amr"], branch, data, callback_url(env, "amr"), item_ref="B1/REG"))
        await receiver.wait_for("B1/REG", "completed")
        await conn.submit(submission_for(specs["amr"], parent, data, callback_url(env, "amr"), item_ref="P2/REG"))
        await receiver.wait_for("P2/REG", "completed")
    finally:
        await conn.aclose()


@pytest.mark.asyncio
async def test_basic_account_first_is_rejected(env, receiver, data, platform_key):
    spec = all_specs()["ytz-bank"]
    e = _enterprise(data, "several_bank_accounts")
    basic = next(a for a in e.bank_accounts if a.kind == "basic")
    conn = make_connector(env, "ytz-bank", platform_key)
    try:
        await conn.submit(
            submission_for(spec, e, data, callback_url(env, "ytz-bank"), item_ref="K1/BANK#basic", account=basic)
        )
        rejected = await receiver.wait_for("K1/BANK#basic", "rejected")
        assert rejected.reasons[0].code == "basic_account_not_last"
    finally:
        await conn.aclose()
