"""Seam for the case backend, which knows people by id only (its ``Actor``)."""

from __future__ import annotations

from backend.identity.directory import ActingCapacity, may_act_for
from backend.identity.principal import APPLICANT, Principal
from backend.platform import Platform


async def may_person_act_for(
    platform: Platform, person_id: str, uscc: str, id_number: str | None = None
) -> ActingCapacity | None:
    """``may_act_for`` for a person known only by id (e.g. the case backend's ``Actor.id``)."""
    principal = Principal(
        subject=person_id, name="", roles=[APPLICANT], auth_method="oidc", person_id=person_id, id_number=id_number
    )
    return await may_act_for(platform, principal, uscc)
