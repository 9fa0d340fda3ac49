"""Administration (系统管理): catalog publication and the staff directory (users and roles).

- ``current_catalog_version(platform) -> str | None``: the version new drafts use (None = the loader's default);
- ``staff_claims(platform, subject) -> dict | None`` and ``overlay_staff_claims(platform, claims)`` for identity;
- ``ROUTES`` for the composition root. Importing this package connects to nothing.
"""

from backend.administration.publication import current_catalog_version
from backend.administration.staff import overlay_staff_claims, staff_claims

__all__ = ["ROUTES", "current_catalog_version", "overlay_staff_claims", "staff_claims"]


def __getattr__(name: str):
    if name == "ROUTES":
        from backend.administration.routes import ROUTES

        return ROUTES
    raise AttributeError(name)
