"""The registration record lookup (the platform's view of an enterprise, 企业登记信息).

Drafts are prefilled from it, and the situation facts the platform can look up (customs
filing, insured unit, bank accounts, seals, branches ...) come from it instead of the
applicant's guesses. Production plugs in the market regulation platform's interface; the
test environment answers from the fixture dataset.
"""

from __future__ import annotations

from typing import Any, Protocol

import msgspec


class Party(msgspec.Struct, frozen=True):
    """A person on the registration record and in which capacity (法定代表人, 投资人 ...)."""

    person_id: str
    name: str
    id_number: str
    phone: str
    role: str


class Account(msgspec.Struct, frozen=True):
    account_no: str
    bank_code: str
    bank_name: str
    kind: str  # basic | general | special | temporary


class SealRecord(msgspec.Struct, frozen=True):
    seal_no: str
    kind: str
    system: str


class EnterpriseRecord(msgspec.Struct, frozen=True, kw_only=True):
    """What the platform knows about an enterprise from shared data."""

    uscc: str
    name: str
    entity_type: str
    region: str
    parties: list[Party]
    parent_uscc: str | None = None
    active_branches: list[str] = []
    customs_code: str | None = None
    si_pension: bool = False
    si_unemployment: bool = False
    seals: list[SealRecord] = []
    bank_accounts: list[Account] = []
    on_abnormal_list: bool = False
    equity_pledged_or_frozen: bool = False
    has_outward_investments: bool = False

    def facts(self) -> dict[str, Any]:
        """Situation answers the platform knows itself; they override the applicant's."""
        return {
            "has_customs_filing": self.customs_code is not None,
            "si_pension": self.si_pension,
            "si_unemployment": self.si_unemployment,
            "bank_accounts": len(self.bank_accounts),
            "has_seals_on_file": bool(self.seals),
            "active_branches": len(self.active_branches),
            "on_abnormal_list": self.on_abnormal_list,
            "equity_pledged_or_frozen": self.equity_pledged_or_frozen,
            "has_outward_investments": self.has_outward_investments,
        }

    def party(self, person_id: str) -> Party | None:
        return next((p for p in self.parties if p.person_id == person_id), None)

    def accounts_in_closing_order(self) -> list[Account]:
        """Bank accounts with the basic account (基本存款账户) last, as the rules require."""
        return sorted(self.bank_accounts, key=lambda a: (a.kind == "basic", a.account_no))


class EnterpriseDirectory(Protocol):
    async def get(self, uscc: str) -> EnterpriseRecord | None: ...


class SandboxDirectory:
    """The test environment's registration system: the fixture enterprises."""

    def __init__(self) -> None:
        from backend.sandbox.fixtures import load_fixtures

        self._data = load_fixtures()
        self._people = {p.id: p for p in self._data.people}
        self._cache: dict[str, EnterpriseRecord] = {}

    async def get(self, uscc: str) -> EnterpriseRecord | None:
        if uscc in self._cache:
            return self._cache[uscc]
        e = self._data.enterprise(uscc)
        if e is None:
            return None
        parties = []
        for actor in e.actors:
            person = self._people[actor.person_id]
            parties.append(Party(person_id=person.id, name=person.name, id_number=person.id_number, phone=person.phone, role=actor.role))
        record = EnterpriseRecord(
            uscc=e.uscc,
            name=e.name,
            entity_type=e.entity_type,
            region=e.region,
            parties=parties,
            parent_uscc=e.parent_uscc,
            active_branches=list(e.branches),
            customs_code=e.customs_code if e.customs_filed else None,
            si_pension=e.si_pension,
            si_unemployment=e.si_unemployment,
            seals=[SealRecord(seal_no=s.seal_no, kind=s.kind, system=s.system) for s in e.seals],
            bank_accounts=[Account(account_no=a.account_no, bank_code=a.bank_code, bank_name=a.bank_name, kind=a.kind) for a in e.bank_accounts],
            on_abnormal_list=e.abnormal_list,
            equity_pledged_or_frozen=e.pledged_equity,
            has_outward_investments=bool(e.outward_investments),
        )
        self._cache[uscc] = record
        return record


class UnconfiguredDirectory:
    """Production without a registration-system integration: say so clearly instead of guessing."""

    async def get(self, uscc: str) -> EnterpriseRecord | None:
        from backend.lib.problems import ProblemError

        raise ProblemError(503, "registration_lookup_unavailable", "暂时无法查询企业登记信息，请稍后再试。 The registration record cannot be looked up right now.")
