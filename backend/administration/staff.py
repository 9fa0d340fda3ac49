"""The staff directory: roles and scopes administrators grant, overlaid on logins without staff claims.

Roles come from a fixed set (``agency_staff``, ``window_staff``, ``admin``); agencies are the
catalog's business-system codes; regions are GB/T 2260 prefixes (2, 4 or 6 digits) of a
division in the catalog's division table; window staff need a hall. Deactivated members
stay in the directory (history) but grant nothing.
"""

from __future__ import annotations

import re
from typing import Any

import msgspec

from backend.administration.tables import StaffMember
from backend.catalog import get_catalog, get_divisions
from backend.db import writing_transaction
from backend.identity.actor import require_admin
from backend.lib.problems import FieldError, ProblemError

AGENCY_STAFF, WINDOW_STAFF, ADMIN = "agency_staff", "window_staff", "admin"
ROLES = (AGENCY_STAFF, WINDOW_STAFF, ADMIN)
# fullmatch (not match with "$", which lets a final newline in), ASCII digits only
_SUBJECT_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._@:-]{0,63}")
_HALL_RE = re.compile(r"[A-Za-z0-9][A-Za-z0-9._-]{0,39}")
_REGION_RE = re.compile(r"\d{2}(\d{2}){0,2}", re.ASCII)


class StaffInput(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Create a staff member (``subject`` = the identity provider's ``sub``). Missing fields are
    reported by :func:`validate` with their names, like invalid ones."""

    subject: str = ""
    name: str = ""
    roles: list[str] = []
    agencies: list[str] = []
    regions: list[str] = []
    hall: str | None = None
    active: bool = True


class StaffChange(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """Change a staff member: only the fields sent change."""

    name: str | None = None
    roles: list[str] | None = None
    agencies: list[str] | None = None
    regions: list[str] | None = None
    hall: str | None = None
    active: bool | None = None


class StaffView(msgspec.Struct, kw_only=True):
    subject: str
    name: str
    roles: list[str]
    agencies: list[str]
    regions: list[str]
    hall: str | None
    active: bool
    created_at: int
    updated_at: int
    updated_by: str


def _load(text: str) -> list[str]:
    return list(msgspec.json.decode(text or "[]"))


def _dump(values: list[str]) -> str:
    return msgspec.json.encode(values).decode()


def _view(row: dict[str, Any]) -> StaffView:
    return StaffView(
        subject=row["subject"],
        name=row["name"],
        roles=_load(row["roles"]),
        agencies=_load(row["agencies"]),
        regions=_load(row["regions"]),
        hall=row["hall"] or None,
        active=bool(row["active"]),
        created_at=row["created_at"],
        updated_at=row["updated_at"],
        updated_by=row["updated_by"],
    )


def _dedupe(values: list[str]) -> list[str]:
    return list(dict.fromkeys(v.strip() for v in values))


def region_known(prefix: str) -> bool:
    """A GB/T 2260 prefix (2, 4 or 6 digits) that some current division of the table starts with."""
    if not _REGION_RE.fullmatch(prefix):
        return False
    divisions = get_divisions()
    if len(prefix) == 6:
        return prefix in divisions.by_code
    return any(code.startswith(prefix) for code in divisions.by_code)


def validate(record: dict[str, Any], catalog_version: str | None = None) -> dict[str, Any]:
    """Normalise and check a staff record; every problem becomes one field error (422 ``validation_failed``)."""
    errors: list[FieldError] = []

    def err(field: str, code: str, message: str) -> None:
        errors.append(FieldError(field=field, code=code, message=message))

    subject = record["subject"].strip()
    if not _SUBJECT_RE.fullmatch(subject):
        err(
            "subject",
            "invalid_subject",
            "工号须为1至64位字母、数字或 . _ @ : -。 The staff id must be 1-64 letters, digits or . _ @ : -",
        )
    name = record["name"].strip()
    if not name or len(name) > 100:
        err("name", "invalid_name", "请填写姓名（不超过100个字）。 Enter a name of at most 100 characters.")
    roles = _dedupe(record["roles"])
    if not roles:
        err("roles", "role_required", "请至少选择一个角色。 Choose at least one role.")
    for i, role in enumerate(roles):
        if role not in ROLES:
            err(f"roles.{i}", "unknown_role", f"未知角色 {role}，可选：{', '.join(ROLES)}。 Unknown role.")
    systems = get_catalog(catalog_version).systems
    agencies = _dedupe(record["agencies"])
    for i, code in enumerate(agencies):
        if code not in systems:
            err(f"agencies.{i}", "unknown_agency", f"未知的业务系统代码 {code}。 Unknown business system code.")
    if AGENCY_STAFF in roles and not agencies:
        err(
            "agencies",
            "agency_required",
            "部门工作人员须至少指定一个业务系统。 Agency staff need at least one business system.",
        )
    regions = _dedupe(record["regions"])
    for i, prefix in enumerate(regions):
        if not region_known(prefix):
            err(
                f"regions.{i}",
                "unknown_region",
                f"区划代码 {prefix} 不是有效的福建省行政区划前缀（2、4或6位）。 Not a known GB/T 2260 prefix.",
            )
    if ({AGENCY_STAFF, WINDOW_STAFF} & set(roles)) and not regions:
        err(
            "regions",
            "region_required",
            "部门和窗口工作人员须至少指定一个辖区。 Agency and window staff need at least one region.",
        )
    hall = (record.get("hall") or "").strip()
    if hall and not _HALL_RE.fullmatch(hall):
        err("hall", "invalid_hall", "服务大厅编号须为字母、数字或 . _ -（不超过40位）。 Invalid hall id.")
    if WINDOW_STAFF in roles and not hall:
        err("hall", "hall_required", "窗口工作人员须指定服务大厅。 Window staff need a service hall.")
    if errors:
        raise ProblemError(422, "validation_failed", "请按字段提示修改。 Some fields are invalid.", errors=errors)
    return {
        "subject": subject,
        "name": name,
        "roles": roles,
        "agencies": agencies,
        "regions": regions,
        "hall": hall,
        "active": bool(record.get("active", True)),
    }


async def _catalog_version(platform) -> str | None:
    from backend.administration.publication import current_catalog_version

    return await current_catalog_version(platform)


async def _row(subject: str) -> dict[str, Any]:
    row = await StaffMember.select().where(StaffMember.subject == subject).first()
    if row is None:
        raise ProblemError(404, "staff_not_found", "工作人员不存在。 No such staff member.")
    return row


async def list_staff(platform, actor, include_inactive: bool = True) -> list[StaffView]:
    require_admin(actor)
    query = StaffMember.select().order_by(StaffMember.subject)
    if not include_inactive:
        query = query.where(StaffMember.active == True)  # noqa: E712 - a column expression
    return [_view(r) for r in await query]


async def get_staff(platform, actor, subject: str) -> StaffView:
    require_admin(actor)
    return _view(await _row(subject))


async def create_staff(platform, actor, data: StaffInput) -> StaffView:
    require_admin(actor)
    clean = validate(msgspec.to_builtins(data), await _catalog_version(platform))
    now = platform.clock.now_ms()
    async with writing_transaction(platform.engine):
        if await StaffMember.exists().where(StaffMember.subject == clean["subject"]):
            raise ProblemError(
                409, "staff_exists", "该工号已在名录中。 This staff id is already in the directory.", field="subject"
            )
        await StaffMember.insert(
            StaffMember(
                subject=clean["subject"],
                name=clean["name"],
                roles=_dump(clean["roles"]),
                agencies=_dump(clean["agencies"]),
                regions=_dump(clean["regions"]),
                hall=clean["hall"],
                active=clean["active"],
                created_at=now,
                updated_at=now,
                updated_by=actor.id,
            )
        )
    return await get_staff(platform, actor, clean["subject"])


def _no_self_lockout(actor, subject: str, clean: dict[str, Any]) -> None:
    if subject == actor.id and (not clean["active"] or ADMIN not in clean["roles"]):
        raise ProblemError(
            409,
            "cannot_remove_own_admin",
            "不能停用自己的账号或取消自己的管理员角色。 You cannot deactivate yourself or drop your own admin role.",
        )


async def change_staff(platform, actor, subject: str, change: StaffChange) -> StaffView:
    """Change the fields sent; the whole record is validated again."""
    require_admin(actor)
    version = await _catalog_version(platform)
    now = platform.clock.now_ms()
    async with writing_transaction(platform.engine):
        current = _view(await _row(subject))
        merged = {
            **msgspec.to_builtins(current),
            **{k: v for k, v in msgspec.to_builtins(change).items() if v is not None},
        }
        clean = validate(merged, version)
        _no_self_lockout(actor, subject, clean)
        await StaffMember.update(
            {
                StaffMember.name: clean["name"],
                StaffMember.roles: _dump(clean["roles"]),
                StaffMember.agencies: _dump(clean["agencies"]),
                StaffMember.regions: _dump(clean["regions"]),
                StaffMember.hall: clean["hall"],
                StaffMember.active: clean["active"],
                StaffMember.updated_at: now,
                StaffMember.updated_by: actor.id,
            }
        ).where(StaffMember.subject == subject)
    return await get_staff(platform, actor, subject)


async def deactivate_staff(platform, actor, subject: str) -> StaffView:
    """The member stays in the directory but grants nothing at the next login."""
    require_admin(actor)
    if subject == actor.id:
        raise ProblemError(409, "cannot_remove_own_admin", "不能停用自己的账号。 You cannot deactivate yourself.")
    async with writing_transaction(platform.engine):
        await _row(subject)
        await StaffMember.update(
            {
                StaffMember.active: False,
                StaffMember.updated_at: platform.clock.now_ms(),
                StaffMember.updated_by: actor.id,
            }
        ).where(StaffMember.subject == subject)
    return await get_staff(platform, actor, subject)


async def staff_claims(platform, subject: str) -> dict[str, Any] | None:
    """Claims for identity to overlay on a login whose ID token carries no staff claims.

    ``{"roles", "agencies", "regions", "hall"?, "name"}`` for an active member, else ``None``.
    """
    row = await StaffMember.select().where((StaffMember.subject == subject) & (StaffMember.active == True)).first()  # noqa: E712
    if row is None:
        return None
    claims: dict[str, Any] = {
        "roles": _load(row["roles"]),
        "agencies": _load(row["agencies"]),
        "regions": _load(row["regions"]),
    }
    if row["hall"]:
        claims["hall"] = row["hall"]
    if row["name"]:
        claims["name"] = row["name"]
    return claims


async def overlay_staff_claims(platform, claims: dict[str, Any]) -> dict[str, Any]:
    """``claims`` with the directory's staff claims laid over them when the ID token has no ``roles``.

    The one call identity makes before mapping claims to a Principal. A token that carries
    roles of its own is left untouched; the token's ``name`` wins over the directory's.
    """
    if claims.get("roles") or not claims.get("sub"):
        return claims
    extra = await staff_claims(platform, str(claims["sub"]))
    if extra is None:
        return claims
    return {**extra, **{k: v for k, v in claims.items() if v not in (None, "", [])}, "roles": extra["roles"]}
