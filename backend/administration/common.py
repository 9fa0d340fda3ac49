"""Helpers shared by the administration services."""

from __future__ import annotations

from backend.lib.problems import ProblemError


def require_admin(actor) -> None:
    """403 ``forbidden`` unless ``actor`` (a case-service ``Actor``) is an administrator."""
    if "admin" not in actor.roles:
        raise ProblemError(403, "forbidden", "仅管理员可以执行该操作。 Administrators only.")
