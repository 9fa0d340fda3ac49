"""Which connector serves which business system, item and region.

Routing by region is the catalog's job; ``fallback_system_for`` is a small stand-in used
only until the catalog's routing data is wired (it follows the brief: Xiamen taxpayers to
the Xiamen tax system; customs by prefecture).
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.connectors.client import Credentials, HttpConnector
from backend.connectors.spec import SystemSpec


def all_specs() -> dict[str, SystemSpec]:
    """Every known system's spec by system code."""
    from backend.connectors import (
        amr,
        customs,
        etax,
        seal_online,
        seal_security,
        si_pension,
        si_unemployment,
        xm_tax,
        ytz_bank,
    )

    specs = [
        etax.SPEC,
        xm_tax.SPEC,
        amr.SPEC,
        *customs.SPECS,
        si_pension.SPEC,
        si_unemployment.SPEC,
        ytz_bank.SPEC,
        seal_security.SPEC,
        seal_online.SPEC,
    ]
    return {s.code: s for s in specs}


def connector_class(spec: SystemSpec) -> type[HttpConnector]:
    """The connector class a spec asks for (``http`` unless the system really differs)."""
    if spec.connector == "bank":
        from backend.connectors.ytz_bank.connector import BankConnector

        return BankConnector
    return HttpConnector


def build_connector(
    system: str,
    base_url: str,
    credentials: Credentials,
    *,
    system_jwks: Mapping[str, Any] | None = None,
    timeout: float | None = None,
) -> HttpConnector:
    """One configured connector for ``system`` (``timeout`` seconds for every phase; default: the spec's)."""
    spec = all_specs()[system]
    return connector_class(spec)(spec, base_url, credentials, system_jwks=system_jwks, timeout=timeout)


def build_connectors(
    base_urls: Mapping[str, str],
    credentials: Credentials | Mapping[str, Credentials],
    *,
    system_jwks: Mapping[str, Mapping[str, Any]] | None = None,
) -> dict[str, HttpConnector]:
    """Connectors for every system in ``base_urls``; credentials shared or per system."""
    out: dict[str, HttpConnector] = {}
    for system, url in base_urls.items():
        creds = credentials if isinstance(credentials, Credentials) else credentials[system]
        jwks = (system_jwks or {}).get(system)
        out[system] = build_connector(system, url, creds, system_jwks=jwks)
    return out


# Fallback routing (the catalog's data wins once available).
_XIAMEN_CUSTOMS_PREFECTURES = ("3502", "3505", "3506", "3508")  # 厦门 泉州 漳州 龙岩


def fallback_system_for(item_code: str, region: str) -> str:
    """The system code for an item in a region, per the brief's routing rules."""
    if item_code.startswith("TAX-"):
        return "xm-tax" if region.startswith("3502") else "etax"
    if item_code.startswith("REG-"):
        return "amr"
    if item_code == "CUSTOMS":
        return "customs-xm" if region.startswith(_XIAMEN_CUSTOMS_PREFECTURES) else "customs-fz"
    if item_code == "SI-PENSION":
        return "si-pension"
    if item_code == "SI-UNEMPLOYMENT":
        return "si-unemployment"
    if item_code == "BANK":
        return "ytz-bank"
    if item_code == "SEAL":
        return "seal-security"
    raise KeyError(item_code)


def connector_key(system: str, office: str | None = None) -> str:
    """The connector code for a catalog plan item: its routed office (``customs-fz``) or its system."""
    return office or system


def connector_for(
    connectors: Mapping[str, HttpConnector],
    item_code: str,
    region: str,
    system: str | None = None,
    office: str | None = None,
) -> HttpConnector:
    """The connector for an item: from the catalog plan item's system/office, else the fallback routing."""
    return connectors[connector_key(system, office) if system else fallback_system_for(item_code, region)]
