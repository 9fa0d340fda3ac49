"""What the identity context needs from contexts above it, as Protocols.

The composition root (``backend.app.wire``) plugs the implementation into
``Platform.staff_claims_overlay``; identity never imports administration.
"""

from __future__ import annotations

from typing import Any, Protocol


class StaffClaimsOverlay(Protocol):
    """``claims`` with the platform's staff directory laid over them (administration's staff directory)."""

    async def __call__(self, platform: Any, claims: dict[str, Any], /) -> dict[str, Any]: ...


async def overlay_staff_claims(platform: Any, claims: dict[str, Any]) -> dict[str, Any]:
    """The plugged-in overlay's claims; the ID token's own claims when nothing is plugged in."""
    overlay: StaffClaimsOverlay | None = getattr(platform, "staff_claims_overlay", None)
    return await overlay(platform, claims) if overlay is not None else claims
