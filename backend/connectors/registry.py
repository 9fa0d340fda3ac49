"""The connectors: one per business system, built from its interface spec.

Which system (and office) serves an item in a region is the catalog's routing data
(``backend.catalog.loader.route_for``); a routed office (``customs-fz``) is itself a connector's code.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from backend.connectors.client import Credentials, HttpConnector
from backend.connectors.spec import SystemSpec, with_signature_algorithm


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
    signature_algorithms: str = "",
) -> HttpConnector:
    """One configured connector for ``system`` (``timeout`` seconds for every phase; default: the spec's;
    ``signature_algorithms``: the deployment's ``SIGNATURE_ALGORITHMS``)."""
    spec = with_signature_algorithm(all_specs()[system], signature_algorithms)
    return connector_class(spec)(spec, base_url, credentials, system_jwks=system_jwks, timeout=timeout)


def build_connectors(
    base_urls: Mapping[str, str], credentials: Credentials, *, signature_algorithms: str = ""
) -> dict[str, HttpConnector]:
    """Connectors for every system in ``base_urls``, all signing with ``credentials``
    (``signature_algorithms``: the deployment's ``SIGNATURE_ALGORITHMS``)."""
    return {
        system: build_connector(system, url, credentials, signature_algorithms=signature_algorithms)
        for system, url in base_urls.items()
    }
