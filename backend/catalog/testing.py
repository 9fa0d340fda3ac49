"""Helpers for tests in this and other contexts: complete, valid situation answers."""

from __future__ import annotations

from typing import Any

#: A complete answer set in which nothing blocks and no optional item applies.
NEUTRAL_ANSWERS: dict[str, Any] = {
    "route": "general",
    "has_customs_filing": False,
    "si_pension": False,
    "si_unemployment": False,
    "bank_accounts": 0,
    "has_seals_on_file": False,
    "active_branches": 0,
    "on_abnormal_list": False,
    "equity_pledged_or_frozen": False,
    "has_outward_investments": False,
    "under_investigation_or_litigation": False,
    "revoked_or_closed": False,
    "unpaid_penalties": False,
    "listed_company": False,
}

#: Every optional item applies (customs, both SI, two bank accounts, seals).
FULL_ANSWERS: dict[str, Any] = {
    **NEUTRAL_ANSWERS,
    "has_customs_filing": True,
    "si_pension": True,
    "si_unemployment": True,
    "bank_accounts": 2,
    "has_seals_on_file": True,
}


def answers(**overrides: Any) -> dict[str, Any]:
    """A copy of :data:`NEUTRAL_ANSWERS` with ``overrides`` applied."""
    return {**NEUTRAL_ANSWERS, **overrides}
