"""Where the workbench meets identity: access audit and face verification of visitors.

identity's functions take a ``Principal``; the workbench receives the route's ``Actor``
(the same fields, ``id`` for ``subject``). These adapters are the one place that converts,
so a change in identity touches only this file.
"""

from __future__ import annotations

from typing import Any

from backend.identity.actor import Actor
from backend.identity.audit import audit_access
from backend.identity.face import require_face_verified, start_face_verification
from backend.identity.principal import Principal
from backend.lib.problems import ProblemError
from backend.ratings.service import Ratings


def principal_of(actor: Actor) -> Any:

    return Principal(
        subject=actor.id,
        name=actor.name or actor.id,
        roles=sorted(actor.roles),
        auth_method="sandbox_token",
        agencies=sorted(actor.agencies),
        regions=list(actor.regions),
        hall=actor.hall,
    )


async def audit(platform, actor: Actor, case_public_id: str, action: str) -> None:
    """Record a staff read of or action on a case (identity's ``audit_access``)."""

    await audit_access(platform, principal_of(actor), case_public_id, action)


async def start_visitor_face_check(platform, visitor_id: str, name: str, reference: str):
    """Start the visitor's face verification for consent (帮办代办); returns identity's ``FaceStart``."""

    return await start_face_verification(
        platform, visitor_id, "assisted_consent", reference, name=name, channel="phone"
    )


async def require_visitor_face_verified(platform, visitor_id: str, reference: str) -> int:
    """Epoch ms of the visitor's passed face verification for this assisted application, else 403."""

    return await require_face_verified(platform, visitor_id, "assisted_consent", reference)


async def visit_rating_token(platform, *, assisted_id: str, hall: str, region: str, visitor_id: str) -> Any:
    """The window service record's one-time token for the visitor to rate this visit (一次一评, ratings);
    None once the visit has been rated."""

    try:
        return await Ratings(platform).issue_visit_token(
            visit_ref=assisted_id, hall=hall or "window", region=region, channel="window", rater_id=visitor_id
        )
    except ProblemError as exc:
        if exc.code == "already_rated":
            return None
        raise
