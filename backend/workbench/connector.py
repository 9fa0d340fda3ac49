"""The manual connector: an agency not integrated yet works its items on the workbench.

Which way a business system is reached is data (``ConnectorMode``), switched by an
administrator. The dispatcher keeps calling a connector exactly as for an integrated
system; ``mode_aware`` picks the manual connector at call time when the mode says so:

- ``submit`` acknowledges at once with a ``MANUAL-…`` reference and leaves the item for staff;
- ``query`` reports the item's own status (so the polling safety net changes nothing);
- ``precheck`` reports no blockers (staff check on receipt);
- ``resubmit`` (after 补正) reopens the item for staff;
- ``verify_callback`` refuses: staff outcomes enter through the workbench, never a callback.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Mapping
from typing import Any, Final, Literal

from backend.cases.tables import CaseItem
from backend.connectors.base import (
    Ack,
    CallbackRejected,
    CallbackResult,
    ItemState,
    ItemStatus,
    PermanentError,
    PrecheckResult,
    ReplayGuard,
    Submission,
)

Mode = Literal["api", "manual"]
API: Final = "api"
MANUAL: Final = "manual"
MODES = (API, MANUAL)

# item status (case backend) -> what the agency would report (connector ItemState)
_REPORTED: dict[str, ItemState] = {
    "queued": "received",
    "sent": "received",
    "accepted": "accepted",
    "in_progress": "in_progress",
    "completed": "completed",
    "rejected": "rejected",
    "correction_requested": "correction_requested",
}


async def connector_mode(system: str) -> Mode:
    """``api`` or ``manual`` for a business system (``api`` unless an administrator switched it)."""
    from backend.workbench.tables import ConnectorMode

    row = await ConnectorMode.select(ConnectorMode.mode).where(ConnectorMode.system == system).first()
    return row["mode"] if row else API


def manual_reference(item_ref: str) -> str:
    """A stable reference per item: a second submit of the same item gets the same one."""
    return "MANUAL-" + hashlib.sha256(item_ref.encode()).hexdigest()[:20].upper()


class ManualConnector:
    """Same protocol as ``backend.connectors.base.Connector``; the 'agency system' is the workbench."""

    def __init__(self, system: str) -> None:
        self.system = system

    async def submit(self, sub: Submission) -> Ack:
        return Ack(status="accepted", reference=manual_reference(sub.item_ref))

    async def resubmit(self, reference: str, sub: Submission) -> Ack:
        return Ack(status="accepted", reference=reference or manual_reference(sub.item_ref))

    async def query(self, *, reference: str | None = None, item_ref: str | None = None) -> ItemStatus:

        query = CaseItem.select(CaseItem.ref, CaseItem.code, CaseItem.status, CaseItem.reference, CaseItem.message)
        row = await (
            query.where(CaseItem.reference == reference) if reference else query.where(CaseItem.ref == item_ref)
        ).first()
        if row is None:
            raise PermanentError("no such manual item", code="unknown_item")
        return ItemStatus(
            reference=row["reference"] or manual_reference(row["ref"]),
            item_ref=row["ref"],
            item_code=row["code"],
            status=_REPORTED.get(row["status"], "received"),
            message=row["message"] or "",
        )

    async def precheck(self, uscc: str, item_code: str, region: str = "") -> PrecheckResult:
        return PrecheckResult(uscc=uscc, item_code=item_code, blockers=[])

    async def verify_callback(
        self, headers: Mapping[str, str], body: bytes, seen: ReplayGuard | None = None
    ) -> CallbackResult:
        raise CallbackRejected("manual systems take no callbacks; staff act on the workbench", code="manual_mode")

    async def verify_callbacks(
        self, headers: Mapping[str, str], body: bytes, seen: ReplayGuard | None = None
    ) -> tuple[list[CallbackResult], bool]:
        raise CallbackRejected("manual systems take no callbacks; staff act on the workbench", code="manual_mode")

    async def aclose(self) -> None:
        return None


MODE_CACHE_SECONDS = 5.0  # a switch made in another process reaches this one within this time


class ModeAwareConnector:
    """Delegates each call to the system's API connector or to the manual one, by the current mode."""

    def __init__(self, system: str, api: Any | None, modes: dict[str, tuple[float, str]] | None = None) -> None:
        self.system = system
        self.api = api
        self.manual = ManualConnector(system)
        self.modes = modes if modes is not None else {}  # system → (valid until, mode), shared per platform

    async def mode(self) -> str:
        known = self.modes.get(self.system)
        if known is None or known[0] < time.monotonic():
            known = self.modes[self.system] = (time.monotonic() + MODE_CACHE_SECONDS, await connector_mode(self.system))
        return known[1]

    async def current(self):
        if await self.mode() == MANUAL:
            return self.manual
        if self.api is None:
            raise PermanentError(f"no connector configured for {self.system}", code="no_connector")
        return self.api

    async def submit(self, sub: Submission) -> Ack:
        return await (await self.current()).submit(sub)

    async def resubmit(self, reference: str, sub: Submission) -> Ack:
        return await (await self.current()).resubmit(reference, sub)

    async def query(self, *, reference: str | None = None, item_ref: str | None = None) -> ItemStatus:
        if reference and reference.startswith(
            "MANUAL-"
        ):  # sent while manual: staff own it even if the mode changed since
            return await self.manual.query(reference=reference, item_ref=item_ref)
        return await (await self.current()).query(reference=reference, item_ref=item_ref)

    async def precheck(self, uscc: str, item_code: str, region: str = "") -> PrecheckResult:
        return await (await self.current()).precheck(uscc, item_code, region)

    async def verify_callback(
        self, headers: Mapping[str, str], body: bytes, seen: ReplayGuard | None = None
    ) -> CallbackResult:
        if self.api is None:
            raise CallbackRejected("no connector", code="no_connector")
        return await self.api.verify_callback(headers, body, seen)

    async def verify_callbacks(
        self, headers: Mapping[str, str], body: bytes, seen: ReplayGuard | None = None
    ) -> tuple[list[CallbackResult], bool]:
        if self.api is None:
            raise CallbackRejected("no connector", code="no_connector")
        return await self.api.verify_callbacks(headers, body, seen)

    async def aclose(self) -> None:
        return None  # the API connector is closed by its owner (the platform)


def mode_aware(platform, system: str) -> ModeAwareConnector:
    """The connector the dispatcher should use for ``system`` (cached per platform)."""
    cache: dict[str, ModeAwareConnector] = platform.__dict__.setdefault("_mode_aware_connectors", {})
    connector = cache.get(system)
    if connector is None or connector.api is not platform.connectors.get(system):
        connector = cache[system] = ModeAwareConnector(system, platform.connectors.get(system), known_modes(platform))
    return connector


def known_modes(platform) -> dict[str, tuple[float, str]]:
    """The modes this process has read recently (``set_mode`` forgets a system's at once)."""
    return platform.__dict__.setdefault("_connector_modes", {})
