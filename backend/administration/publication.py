"""Catalog publication: which catalog version new drafts use is data, not code.

Every publish and every rollback appends a row to ``catalog_publication``; the newest row
(highest id) names the current version. With no row yet, the loader's default (the latest
version shipped) is current, and :func:`current_catalog_version` answers ``None``.

Read path (draft creation): one query on the primary-key index (``ORDER BY id DESC LIMIT 1``),
no cache. It costs a fraction of a millisecond next to the rest of draft creation, and since
every API process reads the same row, all processes agree the moment a publish commits
(no TTL to wait out, nothing to invalidate across processes).

Rollback undoes the newest publish still in effect: the log is replayed as a stack (publish
pushes, rollback pops), and the version before that publish is published again, recorded as
``rollback``. Cases keep the ``catalog_version`` they pinned at draft creation.
"""

from __future__ import annotations

from typing import Any

import msgspec
from piccolo.engine.postgres import PostgresEngine

from backend.administration.tables import CatalogPublication
from backend.catalog import available_versions, get_catalog
from backend.db import raw, writing_transaction
from backend.feedback.consultation import check_publishable
from backend.identity.actor import require_admin
from backend.lib.problems import ProblemError

PUBLISH = "publish"
ROLLBACK = "rollback"


class PublicationView(msgspec.Struct, kw_only=True):
    id: int
    version: str
    action: str  # publish | rollback
    previous_version: str
    reverts: int
    published_at: int
    published_by: str
    note: str


class VersionView(msgspec.Struct, kw_only=True):
    version: str
    effective_from: str
    title: dict[str, str]
    current: bool
    latest: bool
    """The newest version shipped (the loader's default while nothing is published)."""
    published_count: int
    last_published_at: int | None = None


class PublicationState(msgspec.Struct, kw_only=True):
    current: str
    """The version new drafts use."""
    source: str
    """``publication`` (the log names it) or ``default`` (nothing published: the latest shipped)."""
    can_roll_back_to: str | None
    versions: list[VersionView]
    history: list[PublicationView]
    """Newest first."""


def _view(row: dict[str, Any]) -> PublicationView:
    return PublicationView(
        id=row["id"],
        version=row["version"],
        action=row["action"],
        previous_version=row["previous_version"],
        reverts=row["reverts"],
        published_at=row["published_at"],
        published_by=row["published_by"],
        note=row["note"],
    )


async def current_catalog_version(platform) -> str | None:
    """The catalog version new drafts use, or ``None`` for the loader's default (the latest shipped).

    One indexed query (the newest publication row); see the module docstring for why there is no cache.
    """
    row = (
        await CatalogPublication.select(CatalogPublication.version)
        .order_by(CatalogPublication.id, ascending=False)
        .first()
    )
    return row["version"] if row else None


async def effective_version(platform) -> str:
    """The concrete current version (the loader's default resolved)."""
    return get_catalog(await current_catalog_version(platform)).version


def _stack(rows: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Publications still in effect, oldest first (publish pushes, rollback pops)."""
    stack: list[dict[str, Any]] = []
    for row in rows:
        if row["action"] == ROLLBACK:
            if stack:
                stack.pop()
        else:
            stack.append(row)
    return stack


async def _log() -> list[dict[str, Any]]:
    return await CatalogPublication.select().order_by(CatalogPublication.id)


async def state(platform, actor) -> PublicationState:
    """Versions shipped with their publication history, and which one is current."""
    require_admin(actor)
    rows = await _log()
    current = rows[-1]["version"] if rows else get_catalog().version
    shipped = available_versions()
    versions = []
    for v in shipped:
        c = get_catalog(v)
        mine = [r for r in rows if r["version"] == v]
        versions.append(
            VersionView(
                version=v,
                effective_from=c.meta.effective_from,
                title={"zh-CN": c.meta.title.zh, "en": c.meta.title.en},
                current=v == current,
                latest=v == shipped[-1],
                published_count=len(mine),
                last_published_at=mine[-1]["published_at"] if mine else None,
            )
        )
    stack = _stack(rows)
    return PublicationState(
        current=current,
        source="publication" if rows else "default",
        can_roll_back_to=stack[-1]["previous_version"] if stack else None,
        versions=versions,
        history=[_view(r) for r in reversed(rows)],
    )


async def _lock(platform) -> None:
    """Serialise publishers (SQLite's IMMEDIATE transaction already serialises all writers)."""
    if isinstance(platform.engine, PostgresEngine):
        await raw(CatalogPublication, "LOCK TABLE catalog_publication IN SHARE ROW EXCLUSIVE MODE")


async def publish(platform, actor, version: str, note: str = "", override_reason: str = "") -> PublicationView:
    """Make ``version`` the one new drafts use (422 ``unknown_catalog_version``, 409 ``already_current``;
    409 ``unresolved_comments`` while its 征求意见 has open comments, unless ``override_reason`` is given)."""

    require_admin(actor)
    if version not in available_versions():
        get_catalog(version, field="version")  # raises 422 unknown_catalog_version naming the versions shipped
    get_catalog(version)  # a version whose data does not load is never published (CatalogError → 500, logged)
    now = platform.clock.now_ms()
    async with writing_transaction(platform.engine):
        await _lock(platform)
        last = (
            await CatalogPublication.select(CatalogPublication.version)
            .order_by(CatalogPublication.id, ascending=False)
            .first()
        )
        previous = last["version"] if last else get_catalog().version
        if previous == version:
            raise ProblemError(
                409,
                "already_current",
                f"目录版本 {version} 已是当前发布版本。 This version is already current.",
                field="version",
            )
        await check_publishable(platform, actor, version, override_reason)
        rows = await CatalogPublication.insert(
            CatalogPublication(
                version=version,
                action=PUBLISH,
                previous_version=previous,
                published_at=now,
                published_by=actor.id,
                note=note,
            )
        ).returning(*CatalogPublication.all_columns())
    return _view(rows[0])


async def rollback(platform, actor, note: str = "") -> PublicationView:
    """Publish again the version in effect before the newest publish still in effect (409 ``nothing_to_roll_back``)."""
    require_admin(actor)
    now = platform.clock.now_ms()
    async with writing_transaction(platform.engine):
        await _lock(platform)
        rows = await _log()
        stack = _stack(rows)
        if not stack:
            raise ProblemError(
                409, "nothing_to_roll_back", "没有可回退的发布记录。 There is no publication to roll back."
            )
        undone = stack[-1]
        target = undone["previous_version"]
        if target not in available_versions():
            raise ProblemError(
                409,
                "rollback_target_missing",
                f"回退目标版本 {target} 已不在部署中。 The version to roll back to is no longer shipped.",
            )
        inserted = await CatalogPublication.insert(
            CatalogPublication(
                version=target,
                action=ROLLBACK,
                previous_version=rows[-1]["version"],
                reverts=undone["id"],
                published_at=now,
                published_by=actor.id,
                note=note,
            )
        ).returning(*CatalogPublication.all_columns())
    return _view(inserted[0])
