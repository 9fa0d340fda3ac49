"""The audit record of staff access to cases (every read and action by agency, window or admin staff)."""

from __future__ import annotations

import msgspec

from backend.db import writing_transaction
from backend.identity.config import get_identity
from backend.identity.principal import STAFF_ROLES, Principal
from backend.identity.tables import AccessAudit
from backend.platform import Platform


class AccessRecord(msgspec.Struct, kw_only=True):
    subject: str
    name: str
    roles: list[str]
    agency: str
    case_id: str
    action: str
    at: int


async def audit_access(platform: Platform, principal: Principal, case_id: str, action: str = "read") -> bool:
    """Record a staff member's access to ``case_id``; applicants' own access is not recorded (returns False)."""
    if not principal.has_role(*STAFF_ROLES):
        return False
    now = get_identity(platform).now_ms()
    async with writing_transaction(platform.engine):
        await AccessAudit.insert(
            AccessAudit(
                subject=principal.subject,
                name=principal.name,
                roles=msgspec.json.encode(principal.roles).decode(),
                agency=",".join(principal.agencies)[:40],
                case_id=case_id[:100],
                action=action[:40],
                at=now,
            )
        )
    return True


async def access_records(
    platform: Platform, case_id: str | None = None, subject: str | None = None, limit: int = 200
) -> list[AccessRecord]:
    """Audit records, newest first."""
    query = AccessAudit.select()
    if case_id:
        query = query.where(AccessAudit.case_id == case_id)
    if subject:
        query = query.where(AccessAudit.subject == subject)
    rows = await query.order_by(AccessAudit.at, ascending=False).order_by(AccessAudit.id, ascending=False).limit(limit)
    out = []
    for r in rows:
        roles = r["roles"]
        if isinstance(roles, str):
            roles = msgspec.json.decode(roles or "[]")
        out.append(
            AccessRecord(
                subject=r["subject"],
                name=r["name"],
                roles=list(roles),
                agency=r["agency"],
                case_id=r["case_id"],
                action=r["action"],
                at=r["at"],
            )
        )
    return out
