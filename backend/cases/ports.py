"""What the case context needs from contexts above it, as Protocols.

The composition root (``backend.app.wire``) plugs the implementations into the platform's seams
(``Platform.current_catalog_version``, ``Platform.connector_for``); the case context calls them
and never imports administration or the workbench.
"""

from __future__ import annotations

from typing import Any, Protocol


class CatalogVersionSource(Protocol):
    """The catalog version new drafts use, or None for the latest shipped (administration's publication)."""

    async def __call__(self, platform: Any, /) -> str | None: ...


class ConnectorSource(Protocol):
    """The connector an item of ``system`` goes through: the agency's API, or the manual workbench
    while the system is not integrated (the workbench's mode-aware connector)."""

    def __call__(self, platform: Any, system: str, /) -> Any: ...


async def catalog_version(platform: Any) -> str | None:
    """The published catalog version (None: the latest shipped, when nothing is plugged in)."""
    source: CatalogVersionSource | None = platform.current_catalog_version
    return await source(platform) if source is not None else None


def connector(platform: Any, system: str) -> Any:
    """The connector for ``system``: the plugged-in source's, else the agency API's."""
    source: ConnectorSource | None = platform.connector_for
    return source(platform, system) if source is not None else platform.connectors.get(system)
