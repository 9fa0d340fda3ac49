"""The registration record (企业登记信息): the platform's one view of an enterprise and its people.

Identity reads it to decide who may act for an enterprise; the case backend reads it to
prefill drafts and for the situation facts the platform knows itself (customs filing,
insured unit, bank accounts, seals, branches ...), which override the applicant's answers.
Production plugs in the market regulation platform's lookup (``platform.registration``);
the test environment answers from the fixture dataset.
"""

from __future__ import annotations

from typing import Any, NoReturn, Protocol

import msgspec

from backend.fixtures import load_fixtures
from backend.lib.problems import ProblemError


class PersonRecord(msgspec.Struct, frozen=True):
    """A natural person as the registration system knows them."""

    person_id: str
    name: str
    id_number: str
    phone: str = ""


class Party(msgspec.Struct, frozen=True):
    """A person on the record and in which capacity (法定代表人, 投资人, 清算组成员 ...)."""

    person_id: str
    name: str
    id_number: str
    role: str
    phone: str = ""


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
    route: str = ""
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


class RegistrationDirectory(Protocol):
    async def enterprise(self, uscc: str) -> EnterpriseRecord | None: ...

    async def enterprises_of(self, person_id: str | None, id_number: str | None) -> list[EnterpriseRecord]: ...

    async def person(self, person_id: str) -> PersonRecord | None: ...

    async def person_by_id_number(self, id_number: str) -> PersonRecord | None: ...


def same_person(party: Party, person_id: str | None, id_number: str | None) -> bool:
    return bool((id_number and party.id_number == id_number) or (person_id and party.person_id == person_id))


class SandboxDirectory:
    """The test environment's registration system: the fixture dataset, indexed on first use."""

    def __init__(self) -> None:
        self._enterprises: dict[str, EnterpriseRecord] | None = None
        self._people: dict[str, PersonRecord] = {}
        self._by_id_number: dict[str, PersonRecord] = {}

    def preload(self) -> None:
        """Read the fixtures now, before the process takes work (``backend.app.warm_up``)."""
        self._load()

    def _load(self) -> dict[str, EnterpriseRecord]:
        if self._enterprises is None:
            data = load_fixtures()
            self._people = {p.id: PersonRecord(p.id, p.name, p.id_number, p.phone) for p in data.people}
            self._by_id_number = {p.id_number: p for p in self._people.values()}
            self._enterprises = {e.uscc: self._record(e) for e in data.enterprises}
        return self._enterprises

    def _record(self, e) -> EnterpriseRecord:
        parties = [
            Party(person_id=a.person_id, name=p.name, id_number=p.id_number, role=a.role, phone=p.phone)
            for a in e.actors
            if (p := self._people.get(a.person_id)) is not None
        ]
        return EnterpriseRecord(
            uscc=e.uscc,
            name=e.name,
            entity_type=e.entity_type,
            region=e.region,
            route=e.route,
            parties=parties,
            parent_uscc=e.parent_uscc,
            active_branches=list(e.branches),
            customs_code=e.customs_code if e.customs_filed else None,
            si_pension=e.si_pension,
            si_unemployment=e.si_unemployment,
            seals=[SealRecord(seal_no=s.seal_no, kind=s.kind, system=s.system) for s in e.seals],
            bank_accounts=[
                Account(account_no=a.account_no, bank_code=a.bank_code, bank_name=a.bank_name, kind=a.kind)
                for a in e.bank_accounts
            ],
            on_abnormal_list=e.abnormal_list,
            equity_pledged_or_frozen=e.pledged_equity,
            has_outward_investments=bool(e.outward_investments),
        )

    async def enterprise(self, uscc: str) -> EnterpriseRecord | None:
        return self._load().get(uscc)

    async def enterprises_of(self, person_id: str | None, id_number: str | None) -> list[EnterpriseRecord]:
        return [e for e in self._load().values() if any(same_person(p, person_id, id_number) for p in e.parties)]

    async def person(self, person_id: str) -> PersonRecord | None:
        self._load()
        return self._people.get(person_id)

    async def person_by_id_number(self, id_number: str) -> PersonRecord | None:
        self._load()
        return self._by_id_number.get(id_number)


class UnavailableDirectory:
    """Production without a registration-system integration: say so clearly instead of guessing."""

    def _fail(self) -> NoReturn:
        raise ProblemError(
            503,
            "registration_lookup_unavailable",
            "暂时无法查询企业登记信息，请稍后再试。",
            headers={"Retry-After": "300"},
        )

    async def enterprise(self, uscc: str) -> EnterpriseRecord | None:
        """Always 503: there is no registration system to ask."""
        self._fail()

    async def enterprises_of(self, person_id: str | None, id_number: str | None) -> list[EnterpriseRecord]:
        """Always 503: there is no registration system to ask."""
        self._fail()

    async def person(self, person_id: str) -> PersonRecord | None:
        """Always 503: there is no registration system to ask."""
        self._fail()

    async def person_by_id_number(self, id_number: str) -> PersonRecord | None:
        """Always 503: there is no registration system to ask."""
        self._fail()
