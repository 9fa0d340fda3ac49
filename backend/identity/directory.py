"""Who may act for which enterprise: the registration record (法定代表人, 投资人/合伙人, 清算组)
or a mandate (授权委托) the legal representative recorded for an agent.

The registration record comes from ``platform.registration`` (``backend.registration``).
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal, cast

import msgspec
from piccolo.columns.combination import Or, Where

from backend.catalog import get_catalog
from backend.db import writing_transaction
from backend.identity.config import Identity, get_identity
from backend.identity.principal import Principal, forbidden, new_id, require_person
from backend.identity.tables import Mandate
from backend.lib.problems import ProblemError
from backend.lib.validators import validate_id_number, validate_uscc
from backend.platform import Platform
from backend.registration import RegistrationDirectory, same_person

#: Capacities from the registration record that make someone able to act for the enterprise.
REGISTERED_CAPACITIES = frozenset(
    {"legal_rep", "operator", "investor", "partner", "branch_head", "liquidator", "liquidation_head", "agent"}
)
#: Capacities that may grant a mandate (the legal representative, or the operator of an 个体工商户).
GRANTING_CAPACITIES = frozenset({"legal_rep", "operator"})


def set_registration_directory(platform: Platform, directory: RegistrationDirectory) -> None:
    """Plug in the registration lookup for ``platform`` (production)."""
    platform.registration = directory


def registration_directory(platform: Platform) -> RegistrationDirectory:
    """The registration lookup of ``platform`` (the fixture dataset in the test environment)."""
    return platform.registration


# ---- acting capacity -------------------------------------------------------------------------


class ActingCapacity(msgspec.Struct, frozen=True, kw_only=True):
    """Why the principal may act for an enterprise, and for what."""

    uscc: str
    enterprise_name: str
    source: Literal["registration", "mandate"]
    capacities: list[str]
    mandate_id: str | None = None
    whole_case: bool = True
    items: list[str] = []
    expires_at: int | None = None

    def covers(self, item_code: str | None) -> bool:
        """True if this capacity extends to ``item_code`` (or to the whole case when None)."""
        if self.whole_case:
            return True
        return item_code is not None and item_code in self.items

    @property
    def may_grant_mandates(self) -> bool:
        return self.source == "registration" and bool(GRANTING_CAPACITIES & set(self.capacities))


async def may_act_for(platform: Platform, principal: Principal, uscc: str) -> ActingCapacity | None:
    """The principal's capacity to act for the enterprise ``uscc``, or None."""
    if not principal.is_person:
        return None
    directory = registration_directory(platform)
    enterprise = await directory.enterprise(uscc)
    if enterprise is None:
        return None
    capacities = sorted(
        {
            a.role
            for a in enterprise.parties
            if same_person(a, principal.person_id, principal.id_number) and a.role in REGISTERED_CAPACITIES
        }
    )
    if capacities:
        return ActingCapacity(uscc=uscc, enterprise_name=enterprise.name, source="registration", capacities=capacities)
    mandate = await _active_mandate(get_identity(platform), principal, uscc)
    if mandate is not None:
        return ActingCapacity(
            uscc=uscc,
            enterprise_name=enterprise.name,
            source="mandate",
            capacities=["agent"],
            mandate_id=mandate.mandate_id,
            whole_case=mandate.whole_case,
            items=list(_json_list(mandate.items)),
            expires_at=mandate.expires_at,
        )
    return None


async def require_act_for(
    platform: Platform,
    principal: Principal,
    uscc: str,
    item_code: str | None = None,
    capacities: set[str] | frozenset[str] | None = None,
) -> ActingCapacity:
    """The principal's capacity for ``uscc`` (covering ``item_code``, holding one of ``capacities``), or 403."""
    capacity = await may_act_for(platform, principal, uscc)
    if capacity is None:
        raise forbidden("您无权代表该企业办理。 You may not act for this enterprise.")
    if not capacity.covers(item_code):
        if item_code is None:
            raise forbidden(
                "您的授权委托仅限部分事项，不能代表企业办理此项。 Your mandate covers some matters only, not this."
            )
        item = get_catalog().items.get(item_code)
        zh, en = (item.name.zh, item.name.en) if item else (item_code, item_code)
        raise forbidden(f"您的授权委托不包括“{zh}”。 Your mandate does not cover {en}.")
    if capacities and not (set(capacity.capacities) & set(capacities)):
        raise forbidden("您在该企业的身份不能办理此操作。 Your capacity in this enterprise does not allow this.")
    return capacity


async def enterprises_for(platform: Platform, principal: Principal) -> list[ActingCapacity]:
    """Every enterprise the principal may act for (registration record and active mandates)."""
    if not principal.is_person:
        return []
    out: dict[str, ActingCapacity] = {}
    for enterprise in await registration_directory(platform).enterprises_of(principal.person_id, principal.id_number):
        capacity = await may_act_for(platform, principal, enterprise.uscc)
        if capacity:
            out[enterprise.uscc] = capacity
    identity = get_identity(platform)
    now = identity.now_ms()
    rows = await Mandate.select(Mandate.uscc).where(
        _agent_filter(principal) & Mandate.revoked_at.is_null() & (Mandate.expires_at > now)
    )
    for row in rows:
        if row["uscc"] not in out:
            capacity = await may_act_for(platform, principal, row["uscc"])
            if capacity:
                out[row["uscc"]] = capacity
    return sorted(out.values(), key=lambda c: c.uscc)


# ---- mandates (授权委托) -----------------------------------------------------------------------


class MandateCreate(msgspec.Struct, kw_only=True):
    """A legal representative's mandate for an agent: whole case, or only some items."""

    uscc: str
    agent_id_number: str
    agent_name: str = msgspec.field(default="")
    expires_at: int = msgspec.field(default=0)
    """Epoch ms; 0 means 90 days from now."""
    items: list[str] = []
    """Item codes (``TAX-UNIFIED`` …); empty means the whole case."""


class MandateView(msgspec.Struct, kw_only=True):
    mandate_id: str
    uscc: str
    grantor_name: str
    agent_name: str
    agent_id_number: str
    whole_case: bool
    items: list[str]
    created_at: int
    expires_at: int
    status: Literal["active", "expired", "revoked"]
    revoked_at: int | None = None


MAX_MANDATE_DAYS = 365


def _json_list(value: object) -> list[str]:
    if isinstance(value, str):
        return list(msgspec.json.decode(value or "[]"))
    return list(cast("Iterable[str]", value or []))  # the JSON column as the driver decoded it


def _agent_filter(principal: Principal):
    """Mandates naming this person, by ID number or person id (None when neither is known)."""
    where: Where | Or | None = None
    if principal.id_number:
        where = Mandate.agent_id_number == principal.id_number
    if principal.person_id:
        by_id = Mandate.agent_person_id == principal.person_id
        where = by_id if where is None else where | by_id
    return where


async def _active_mandate(identity: Identity, principal: Principal, uscc: str) -> Mandate | None:
    now = identity.now_ms()
    if _agent_filter(principal) is None:
        return None
    return (
        await Mandate.objects()
        .where(
            (Mandate.uscc == uscc)
            & _agent_filter(principal)
            & Mandate.revoked_at.is_null()
            & (Mandate.expires_at > now)
        )
        .order_by(Mandate.expires_at, ascending=False)
        .first()
    )


def mandate_view(identity: Identity, row: Mandate, viewer: Principal) -> MandateView:
    from backend.identity.masking import mask_id_number

    now = identity.now_ms()
    status: Literal["active", "expired", "revoked"] = (
        "revoked" if row.revoked_at else "expired" if row.expires_at <= now else "active"
    )
    own = viewer.id_number == row.agent_id_number
    return MandateView(
        mandate_id=row.mandate_id,
        uscc=row.uscc,
        grantor_name=row.grantor_name,
        agent_name=row.agent_name,
        agent_id_number=row.agent_id_number if own else mask_id_number(row.agent_id_number),
        whole_case=row.whole_case,
        items=_json_list(row.items),
        created_at=row.created_at,
        expires_at=row.expires_at,
        status=status,
        revoked_at=row.revoked_at,
    )


async def create_mandate(platform: Platform, principal: Principal, data: MandateCreate) -> MandateView:
    """Record a mandate; only the enterprise's legal representative (or operator) may grant one."""
    require_person(principal)
    identity = get_identity(platform)
    uscc = validate_uscc(data.uscc)
    agent_id_number = validate_id_number(data.agent_id_number, field="agent_id_number")
    capacity = await may_act_for(platform, principal, uscc)
    if capacity is None or not capacity.may_grant_mandates:
        raise forbidden(
            "只有该企业的法定代表人（负责人）可以授权委托。 Only the legal representative may grant a mandate."
        )
    if agent_id_number == principal.id_number:
        raise ProblemError(
            422, "invalid_mandate", "不能委托本人。 You cannot mandate yourself.", field="agent_id_number"
        )
    now = identity.now_ms()
    expires_at = data.expires_at or now + 90 * 86400 * 1000
    if expires_at <= now or expires_at > now + MAX_MANDATE_DAYS * 86400 * 1000:
        raise ProblemError(
            422,
            "invalid_mandate",
            f"授权期限应在未来{MAX_MANDATE_DAYS}天内。 The expiry must lie within {MAX_MANDATE_DAYS} days.",
            field="expires_at",
        )
    items = sorted({i.strip().upper() for i in data.items if i.strip()})
    agent = await registration_directory(platform).person_by_id_number(agent_id_number)
    if agent is not None and data.agent_name and agent.name != data.agent_name:
        raise ProblemError(
            422,
            "invalid_mandate",
            "受托人姓名与身份证号码不符。 The agent's name does not match the ID number.",
            field="agent_name",
        )
    row = Mandate(
        mandate_id=new_id("m"),
        uscc=uscc,
        grantor_person_id=principal.person_id or principal.subject,
        grantor_name=principal.name,
        agent_id_number=agent_id_number,
        agent_name=data.agent_name or (agent.name if agent else ""),
        agent_person_id=agent.person_id if agent else None,
        whole_case=not items,
        items=msgspec.json.encode(items).decode(),
        created_at=now,
        expires_at=expires_at,
    )
    async with writing_transaction(platform.engine):
        await Mandate.insert(row)
    return mandate_view(identity, row, principal)


async def list_mandates(platform: Platform, principal: Principal, uscc: str | None = None) -> list[MandateView]:
    """Mandates the caller granted (for enterprises they represent) or received."""
    require_person(principal)
    identity = get_identity(platform)
    where = _agent_filter(principal)
    granting = []
    for capacity in await enterprises_for(platform, principal):
        if capacity.may_grant_mandates:
            granting.append(capacity.uscc)
    if granting:
        where = where | Mandate.uscc.is_in(granting)
    query = Mandate.objects().where(where)
    if uscc:
        query = query.where(Mandate.uscc == uscc)
    rows = await query.order_by(Mandate.created_at, ascending=False)
    return [mandate_view(identity, r, principal) for r in rows]


async def revoke_mandate(platform: Platform, principal: Principal, mandate_id: str) -> MandateView:
    """Revoke a mandate (its grantor enterprise's legal representative only)."""
    require_person(principal)
    identity = get_identity(platform)
    row = await Mandate.objects().where(Mandate.mandate_id == mandate_id).first()
    if row is None:
        raise ProblemError(404, "mandate_not_found", "授权委托不存在。 No such mandate.")
    capacity = await may_act_for(platform, principal, row.uscc)
    if capacity is None or not capacity.may_grant_mandates:
        raise forbidden(
            "只有该企业的法定代表人（负责人）可以撤销授权。 Only the legal representative may revoke a mandate."
        )
    if row.revoked_at is None:
        now = identity.now_ms()
        async with writing_transaction(platform.engine):
            await Mandate.update({Mandate.revoked_at: now}).where((Mandate.id == row.id) & Mandate.revoked_at.is_null())
        row.revoked_at = now
    return mandate_view(identity, row, principal)
