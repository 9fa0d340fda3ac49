"""Who is acting, as every other context sees it, and the one administrator check.

``Actor`` is the identity context's authenticated ``Principal`` reduced to what a service needs
to decide (id, kind, roles, agencies, regions, hall); routes receive it as ``actor: ActorDep``
(the composition root provides it from the principal). ``require_admin`` is the single place
that decides "administrators only", for an ``Actor`` and a ``Principal`` alike.
"""

from __future__ import annotations

from typing import Any, Protocol, TypeVar

import msgspec
from litestar.di import NamedDependency

from backend.lib.problems import ProblemError

ADMIN = "admin"
STAFF_ROLES = frozenset({"agency_staff", "window_staff", ADMIN})
ADMINS_ONLY = "仅管理员可以执行该操作。 Administrators only."


class Actor(msgspec.Struct, frozen=True, kw_only=True):
    """Who is acting: a person (applicant, agent, staff) or the platform itself."""

    id: str
    name: str = ""
    kind: str = "person"  # person | staff | system | agency
    roles: frozenset[str] = frozenset()
    agencies: frozenset[str] = frozenset()  # business-system codes an agency staff member works for
    regions: tuple[str, ...] = ()  # GB/T 2260 prefixes in a staff member's scope ("35" = the province)
    hall: str | None = None  # service hall of window staff and kiosk terminals

    def in_region(self, region: str) -> bool:
        return any(region.startswith(prefix) for prefix in self.regions)


SYSTEM = Actor(id="platform", name="平台", kind="system")

ActorDep = NamedDependency[Actor]
"""Route parameter type: ``actor: ActorDep`` injects the authenticated person."""


def actor_of(principal: Any) -> Actor:
    """The ``Actor`` for identity's authenticated ``Principal``."""
    staff = bool(STAFF_ROLES & set(principal.roles))
    return Actor(
        id=principal.person_id or principal.subject,
        name=principal.name,
        kind="staff" if staff and not principal.person_id else "person",
        roles=frozenset(principal.roles),
        agencies=frozenset(principal.agencies),
        regions=tuple(principal.regions),
        hall=principal.hall,
    )


class HasRoles(Protocol):
    @property
    def roles(self) -> Any: ...


_Who = TypeVar("_Who", bound=HasRoles)


def is_admin(who: HasRoles) -> bool:
    """True if ``who`` (an ``Actor`` or a ``Principal``) is a platform administrator."""
    return ADMIN in who.roles


def require_admin(who: _Who, detail: str = ADMINS_ONLY) -> _Who:
    """403 ``forbidden`` unless ``who`` is an administrator; ``detail`` words the refusal for the page."""
    if not is_admin(who):
        raise ProblemError(403, "forbidden", detail)
    return who
