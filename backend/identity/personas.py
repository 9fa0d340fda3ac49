"""Test personas of the sandbox identity provider, and the mapping from provider claims to a Principal.

The fixture dataset (``backend.fixtures``) gives applicants, agency staff, window
staff, the administrator and the tester. Identity adds what it needs and the dataset lacks:
region-scoped agency staff, kiosk terminals (each its own credential), and ``person-<id>``
for every fixture person (e.g. co-signing investors and liquidation group members).
"""

from __future__ import annotations

from typing import Any

import msgspec

from backend.fixtures import load_fixtures
from backend.identity.principal import (
    ADMIN,
    AGENCY_STAFF,
    APPLICANT,
    KIOSK_TERMINAL,
    TESTER,
    WINDOW_STAFF,
    AuthMethod,
    Principal,
)


class SandboxPersona(msgspec.Struct, frozen=True, kw_only=True):
    """One persona the sandbox provider can log in as, with the claims it asserts."""

    id: str
    kind: str
    name: str
    description: str
    claims: dict[str, Any]


#: Identity's own additions to the fixture personas (report these to the sandbox owner).
EXTRA_PERSONAS: list[dict[str, Any]] = [
    {
        "id": "staff-amr-fuzhou",
        "kind": "staff",
        "name": "福州市市场监督管理局 登记注册岗（测试）",
        "description": "福州市辖区的市场监管工作人员 / AMR staff, Fuzhou only",
        "claims": {"roles": [AGENCY_STAFF], "agencies": ["amr"], "regions": ["3501"]},
    },
    {
        "id": "kiosk-fz-01",
        "kind": "kiosk",
        "name": "福州市行政服务中心 自助终端01（测试）",
        "description": "自助终端凭证 / kiosk terminal credential, Fuzhou hall",
        "claims": {
            "roles": [KIOSK_TERMINAL],
            "terminal_id": "kiosk-fz-01",
            "hall": "hall-350100",
            "regions": ["350100"],
        },
    },
    {
        "id": "kiosk-pt-01",
        "kind": "kiosk",
        "name": "平潭综合实验区行政服务中心 自助终端01（测试）",
        "description": "自助终端凭证 / kiosk terminal credential, Pingtan hall",
        "claims": {
            "roles": [KIOSK_TERMINAL],
            "terminal_id": "kiosk-pt-01",
            "hall": "hall-350128",
            "regions": ["350128"],
        },
    },
]


def hall_of_region(region: str) -> str:
    """The service hall id for a window-staff region (one hall per region in the test environment)."""
    return f"hall-{region}"


def sandbox_personas() -> list[SandboxPersona]:
    """Every persona the sandbox provider offers, in picker order."""

    data = load_fixtures()
    people = {p.id: p for p in data.people}
    out: list[SandboxPersona] = []
    for p in data.personas:
        claims: dict[str, Any]
        if p.kind == "applicant" and p.person_id in people:
            person = people[p.person_id]
            claims = {
                "sub": person.id,
                "id_number": person.id_number,
                "phone_number": person.phone,
                "roles": [APPLICANT],
            }
        elif p.kind == "staff":
            claims = {"roles": [AGENCY_STAFF], "agencies": list(p.systems), "regions": list(p.regions) or ["35"]}
        elif p.kind == "window":
            regions = list(p.regions) or ["35"]
            claims = {"roles": [WINDOW_STAFF], "regions": regions, "hall": hall_of_region(regions[0])}
        elif p.kind == "admin":
            claims = {"roles": [ADMIN], "regions": ["35"]}
        elif p.kind == "tester":
            claims = {"roles": [TESTER]}
        else:
            continue
        out.append(SandboxPersona(id=p.id, kind=p.kind, name=p.name, description=p.description, claims=claims))
    for extra in EXTRA_PERSONAS:
        out.append(
            SandboxPersona(
                id=extra["id"],
                kind=extra["kind"],
                name=extra["name"],
                description=extra["description"],
                claims=dict(extra["claims"]),
            )
        )
    return out


def find_persona(persona_id: str) -> SandboxPersona | None:
    """A persona by id; ``person-<fixture person id>`` gives any fixture person as an applicant."""
    for persona in sandbox_personas():
        if persona.id == persona_id:
            return persona
    if persona_id.startswith("person-"):
        person = load_fixtures().person(persona_id.removeprefix("person-"))
        if person is not None:
            return SandboxPersona(
                id=persona_id,
                kind="applicant",
                name=person.name,
                description="测试自然人 / fixture person",
                claims={
                    "sub": person.id,
                    "id_number": person.id_number,
                    "phone_number": person.phone,
                    "roles": [APPLICANT],
                },
            )
    return None


def persona_claims(persona: SandboxPersona) -> dict[str, Any]:
    """The OIDC claims the sandbox provider asserts for ``persona``."""
    claims = {"sub": persona.id, "name": persona.name, "persona": persona.id, **persona.claims}
    return claims


def principal_from_claims(claims: dict[str, Any], auth_method: AuthMethod) -> Principal:
    """Map identity-provider claims to a Principal (the same for OIDC login and ``/sandbox/token``)."""
    roles = [str(r) for r in claims.get("roles") or [APPLICANT]]
    is_person = APPLICANT in roles
    return Principal(
        subject=str(claims["sub"]),
        name=str(claims.get("name") or ""),
        roles=roles,
        auth_method=auth_method,
        person_id=str(claims["sub"]) if is_person else None,
        id_number=claims.get("id_number") if is_person else None,
        agencies=list(claims.get("agencies") or []),
        regions=list(claims.get("regions") or []),
        hall=claims.get("hall"),
        terminal_id=claims.get("terminal_id"),
        persona=claims.get("persona"),
    )
