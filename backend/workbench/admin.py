"""Administration: connector modes, dead-lettered dispatches, catalog versions (view, diff), jurisdiction."""

from __future__ import annotations

from typing import Any

import msgspec

from backend.cases import states as st
from backend.cases.common import _load
from backend.cases.tables import CaseFile, CaseItem
from backend.catalog import get_catalog
from backend.catalog.loader import available_versions
from backend.db import writing_transaction
from backend.identity.actor import Actor, require_admin
from backend.jobs.tables import Job
from backend.lib.problems import ProblemError
from backend.workbench.connector import API, MODES, connector_mode, known_modes
from backend.workbench.schemas import ModeView
from backend.workbench.tables import ConnectorMode


def _systems() -> dict[str, Any]:
    return get_catalog().systems


async def list_modes(actor: Actor) -> list[ModeView]:
    require_admin(actor)
    rows = {r["system"]: r for r in await ConnectorMode.select()}
    out = []
    for code, system in _systems().items():
        r = rows.get(code)
        out.append(
            ModeView(
                system=code,
                name={"zh-CN": system.name.zh, "en": system.name.en},
                mode=r["mode"] if r else API,
                changed_by=r["changed_by"] if r else "",
                updated_at=r["updated_at"] if r else 0,
                note=r["note"] if r else "",
            )
        )
    return out


async def set_mode(platform, actor: Actor, system: str, mode: str, note: str = "") -> ModeView:
    """Switch a business system between its API connector and the manual workbench."""
    require_admin(actor)
    if system not in _systems():
        raise ProblemError(404, "unknown_system", "未知的业务系统。 Unknown business system.")
    if mode not in MODES:
        raise ProblemError(422, "invalid_mode", "模式须为 api 或 manual。 Mode must be api or manual.", field="mode")
    now = platform.clock.now_ms()

    async with writing_transaction(platform.engine):
        updated = (
            await ConnectorMode.update(
                {
                    ConnectorMode.mode: mode,
                    ConnectorMode.changed_by: actor.id,
                    ConnectorMode.note: note,
                    ConnectorMode.updated_at: now,
                }
            )
            .where(ConnectorMode.system == system)
            .returning(ConnectorMode.id)
        )
        if not updated:
            await ConnectorMode.insert(
                ConnectorMode(system=system, mode=mode, changed_by=actor.id, note=note, updated_at=now)
            )
    known_modes(platform).pop(system, None)  # this process sends the new way at once; others within MODE_CACHE_SECONDS
    s = _systems()[system]
    return ModeView(
        system=system,
        name={"zh-CN": s.name.zh, "en": s.name.en},
        mode=await connector_mode(system),
        changed_by=actor.id,
        updated_at=now,
        note=note,
    )


class DeadLetter(msgspec.Struct, kw_only=True):
    """An item whose delivery failed (推送失败) or a dead background job."""

    kind: str  # item | job
    ref: str = ""
    case_id: str = ""
    case_number: str | None = None
    code: str = ""
    system: str = ""
    error: str = ""
    job_id: int = 0
    job_kind: str = ""
    attempts: int = 0
    at: int = 0


async def dead_letters(actor: Actor) -> list[DeadLetter]:
    require_admin(actor)

    out: list[DeadLetter] = []
    items = (
        await CaseItem.select().where(CaseItem.status == st.DISPATCH_FAILED).order_by(CaseItem.updated_at).limit(500)
    )
    cases = {
        c["id"]: c
        for c in await CaseFile.select(CaseFile.id, CaseFile.public_id, CaseFile.number).where(
            CaseFile.id.is_in([i["case_file"] for i in items] or [0])
        )
    }
    for i in items:
        c = cases[i["case_file"]]
        out.append(
            DeadLetter(
                kind="item",
                ref=i["ref"],
                case_id=c["public_id"],
                case_number=c["number"],
                code=i["code"],
                system=i["system"],
                error=i["message"],
                at=i["updated_at"],
            )
        )
    for j in await Job.select().where(Job.status == "dead").order_by(Job.finished_at).limit(500):
        payload = _load(j["payload"], {})
        out.append(
            DeadLetter(
                kind="job",
                job_id=j["id"],
                job_kind=j["kind"],
                ref=str(payload.get("ref", "")),
                error=j["last_error"],
                attempts=j["attempts"],
                at=j["finished_at"] or j["created_at"],
            )
        )
    return out


async def redrive_item(platform, actor: Actor, ref: str) -> None:
    """Re-drive an item whose delivery failed (the case service writes a fresh send job)."""
    require_admin(actor)
    await platform.cases.redrive(actor, ref)


async def redrive_job(platform, actor: Actor, job_id: int) -> bool:
    require_admin(actor)
    if not await platform.queue.redrive(job_id):
        raise ProblemError(409, "not_dead", "该任务不处于死信状态。 The job is not dead-lettered.")
    return True


# ---------------------------------------------------------------------- catalog versions


def catalog_versions() -> list[dict[str, Any]]:

    versions = sorted(available_versions())
    current = get_catalog().version
    out = []
    for v in versions:
        c = get_catalog(v)
        out.append(
            {
                "version": v,
                "effective_from": c.meta.effective_from,
                "title": {"zh-CN": c.meta.title.zh, "en": c.meta.title.en},
                "current": v == current,
                "items": len(c.items),
                "materials": len(c.materials),
                "form_fields": len(c.fields),
                "rules": len(c.rules),
            }
        )
    return out


def _catalog_sections(version: str) -> dict[str, dict[str, Any]]:
    c = get_catalog(version)
    return {
        "items": {k: msgspec.to_builtins(v) for k, v in c.items.items()},
        "materials": {k: msgspec.to_builtins(v) for k, v in c.materials.items()},
        "form_fields": {k: msgspec.to_builtins(v) for k, v in c.fields.items()},
        "rules": {k: msgspec.to_builtins(v) for k, v in c.rules.items()},
        "systems": {k: msgspec.to_builtins(v) for k, v in c.systems.items()},
        "periods": {p.code: msgspec.to_builtins(p) for p in c.periods},
    }


def catalog_diff(base: str, other: str) -> dict[str, Any]:
    """What changed between two catalog versions, per section: added, removed, changed codes."""
    a, b = _catalog_sections(base), _catalog_sections(other)
    sections = {}
    for name in a:
        left, right = a[name], b[name]
        changed = sorted(k for k in set(left) & set(right) if left[k] != right[k])
        sections[name] = {
            "added": sorted(set(right) - set(left)),
            "removed": sorted(set(left) - set(right)),
            "changed": [
                {
                    "code": k,
                    "fields": sorted(f for f in set(left[k]) | set(right[k]) if left[k].get(f) != right[k].get(f)),
                }
                for k in changed
            ],
        }
    return {"base": base, "other": other, "sections": sections}


def jurisdiction() -> dict[str, Any]:
    """The deployment's jurisdiction: which GB/T 2260 divisions it serves, which it refuses and why."""
    c = get_catalog()
    j = c.default_jurisdiction
    return msgspec.to_builtins(j) | {"catalog_version": c.version}
