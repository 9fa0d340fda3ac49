"""Masking of ID and phone numbers in API responses that are not the person's own."""

from __future__ import annotations

from typing import overload


@overload
def mask_id_number(value: str) -> str: ...
@overload
def mask_id_number(value: None) -> None: ...
@overload
def mask_id_number(value: str | None) -> str | None: ...


def mask_id_number(value: str | None) -> str | None:
    """``3501************72``: as in the logs (``backend.lib.logging.mask``), first 4 and last 2 kept."""
    if not value:
        return value
    if len(value) < 8:
        return "*" * len(value)
    return value[:4] + "*" * (len(value) - 6) + value[-2:]


def mask_phone(value: str | None) -> str | None:
    """``199****0001``."""
    if not value:
        return value
    if len(value) < 7:
        return "*" * len(value)
    return value[:3] + "*" * (len(value) - 7) + value[-4:]
