"""Business checks the simulated agencies apply, named in each ``SystemSpec.checks``.

A check looks at the fixture enterprise, the submission payload and what this simulator has
already completed, and returns the business reasons (empty when the item may proceed).
Unknown enterprises (not in the fixtures) pass every check, so load tests may invent USCCs.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from typing import Any

from backend.connectors.base import Reason
from backend.fixtures import Enterprise


@dataclass
class SimContext:
    """What a check may look at besides the enterprise and the payload."""

    system: str
    completed_usccs: set[str] = field(default_factory=set)  # enterprises this system has completed
    closed_accounts: set[str] = field(default_factory=set)  # bank accounts this system has closed
    stateful: bool = True  # False for pre-checks (no submission yet)


Check = Callable[[Enterprise, Mapping[str, Any], SimContext], list[Reason]]


def _yuan(cents: int) -> str:
    return f"{cents / 100:,.2f}"


def tax_arrears(e: Enterprise, payload: Mapping[str, Any], ctx: SimContext) -> list[Reason]:
    if e.tax_arrears_cents:
        return [
            Reason(
                "tax_arrears",
                f"存在未缴税款及滞纳金 {_yuan(e.tax_arrears_cents)} 元，请先缴清。 Unpaid taxes of CNY "
                f"{_yuan(e.tax_arrears_cents)}.",
            )
        ]
    return []


def uncancelled_invoices(e: Enterprise, payload: Mapping[str, Any], ctx: SimContext) -> list[Reason]:
    if e.uncancelled_invoices:
        return [
            Reason(
                "uncancelled_invoices",
                f"有 {e.uncancelled_invoices} 份发票未缴销，请先办理发票缴销。 {e.uncancelled_invoices} invoices are "
                "not cancelled.",
            )
        ]
    return []


def active_branches(e: Enterprise, payload: Mapping[str, Any], ctx: SimContext) -> list[Reason]:
    open_branches = [b for b in e.branches if not (ctx.stateful and b in ctx.completed_usccs)]
    if open_branches:
        return [
            Reason(
                "active_branches",
                f"尚有 {len(open_branches)} 家分支机构未注销，请先注销分支机构。 Branches must be deregistered first: "
                f"{', '.join(open_branches)}.",
            )
        ]
    return []


def simplified_eligibility(e: Enterprise, payload: Mapping[str, Any], ctx: SimContext) -> list[Reason]:
    route = payload.get("route", e.route)
    if route != "simplified":
        return []
    out = []
    if e.abnormal_list:
        out.append(
            Reason(
                "abnormal_list",
                "被列入经营异常名录，不适用简易注销。 On the abnormal operation list: simplified route not allowed.",
            )
        )
    if e.pledged_equity:
        out.append(
            Reason(
                "pledged_equity",
                "股权（财产份额）被出质，不适用简易注销。 Pledged equity: simplified route not allowed.",
            )
        )
    if e.outward_investments:
        out.append(
            Reason(
                "outward_investments",
                "存在对外投资，不适用简易注销。 Holds outward investments: simplified route not allowed.",
            )
        )
    return out


def customs_filed(e: Enterprise, payload: Mapping[str, Any], ctx: SimContext) -> list[Reason]:
    if not e.customs_filed:
        return [Reason("not_customs_filed", "未查询到报关单位备案信息。 No customs declarant filing found.")]
    return []


def customs_pending_declarations(e: Enterprise, payload: Mapping[str, Any], ctx: SimContext) -> list[Reason]:
    if e.pending_customs_declarations:
        return [
            Reason(
                "pending_customs_declarations",
                f"有 {e.pending_customs_declarations} 票报关单尚未办结。 {e.pending_customs_declarations} declarations "
                "are pending.",
            )
        ]
    return []


def si_registered(e: Enterprise, payload: Mapping[str, Any], ctx: SimContext) -> list[Reason]:
    registered = e.si_pension if ctx.system == "si-pension" else e.si_unemployment
    if not registered:
        return [
            Reason("not_insured_unit", "未查询到参保单位登记信息。 Not registered as an insured unit in this system.")
        ]
    return []


def si_arrears(e: Enterprise, payload: Mapping[str, Any], ctx: SimContext) -> list[Reason]:
    if e.si_arrears_cents:
        return [
            Reason(
                "si_arrears",
                f"存在欠缴社会保险费 {_yuan(e.si_arrears_cents)} 元，请先补缴。 Social insurance arrears of CNY "
                f"{_yuan(e.si_arrears_cents)}.",
            )
        ]
    return []


def _account(payload: Mapping[str, Any]) -> Mapping[str, Any]:
    account = payload.get("account")
    return account if isinstance(account, Mapping) else {}


def bank_account_known(e: Enterprise, payload: Mapping[str, Any], ctx: SimContext) -> list[Reason]:
    if not ctx.stateful:
        return (
            []
            if e.bank_accounts
            else [Reason("no_bank_account", "未查询到该主体的银行结算账户。 No settlement account found.")]
        )
    number = _account(payload).get("account_no")
    if not any(a.account_no == number for a in e.bank_accounts):
        return [
            Reason(
                "unknown_account", "未查询到该银行结算账户。 Unknown settlement account.", field="account.account_no"
            )
        ]
    return []


def basic_account_last(e: Enterprise, payload: Mapping[str, Any], ctx: SimContext) -> list[Reason]:
    if not ctx.stateful or _account(payload).get("kind") != "basic":
        return []
    still_open = [
        a.account_no for a in e.bank_accounts if a.kind != "basic" and a.account_no not in ctx.closed_accounts
    ]
    if still_open:
        return [
            Reason(
                "basic_account_not_last",
                f"基本存款账户须最后撤销，尚有 {len(still_open)} 个账户未撤销。 Close the other accounts before the "
                "basic account.",
            )
        ]
    return []


def seals_on_file(e: Enterprise, payload: Mapping[str, Any], ctx: SimContext) -> list[Reason]:
    if not any(s.system == ctx.system for s in e.seals):
        return [Reason("no_seal_on_file", "本系统未查询到该主体的备案印章。 No seal on file in this system.")]
    return []


CHECKS: dict[str, Check] = {
    f.__name__: f
    for f in (
        tax_arrears,
        uncancelled_invoices,
        active_branches,
        simplified_eligibility,
        customs_filed,
        customs_pending_declarations,
        si_registered,
        si_arrears,
        bank_account_known,
        basic_account_last,
        seals_on_file,
    )
}


def run_checks(
    names: tuple[str, ...], e: Enterprise | None, payload: Mapping[str, Any], ctx: SimContext
) -> list[Reason]:
    """All reasons the named checks find (none for an enterprise outside the fixtures)."""
    if e is None:
        return []
    out: list[Reason] = []
    for name in names:
        out.extend(CHECKS[name](e, payload, ctx))
    return out
