"""Registration lookup (企业登记信息查询): the market regulation platform's enterprise information.

The interface we specify (``openapi.yaml`` beside this file) follows the agency connectors'
conventions: every request and answer carries a detached JWS (``X-Signature``; ES256 as the spec
says, or SM2 with SM3 where ``SIGNATURE_ALGORITHMS`` names ``registration=SM2`` or ``*=SM2``) over
the exact body, requests name the client (``X-Client-Id``) and are bound to method and path
(``htm``/``htu``); answers name the request they answer (``irt``). The client
(``client.py``) is what production plugs into ``platform.registration``; the simulator
(``simulator.py``) serves the test environment's fixture dataset over the same interface; the
conformance kit's checks of an implementation (``conformance.py``) run as
``python -m backend.connectors.conformance --system registration``.
"""

from __future__ import annotations

import msgspec

from backend.registration import EnterpriseRecord, PersonRecord

SYSTEM = "registration"
#: The spec's signature algorithm (``x-signature-algorithm``); a deployment may choose SM2 instead.
SIGNATURE_ALGORITHM = "ES256"


def signature_algorithm(overrides: str | dict[str, str]) -> str:
    """The algorithm both sides sign with in this deployment (``SIGNATURE_ALGORITHMS``, else the spec's)."""
    from backend.connectors.spec import signature_algorithm_for

    return signature_algorithm_for(SYSTEM, SIGNATURE_ALGORITHM, overrides)


ENTERPRISE_PATH = "/api/v1/enterprises"
ENTERPRISE_SEARCH_PATH = "/api/v1/enterprises/search"
PERSON_PATH = "/api/v1/persons"
PERSON_SEARCH_PATH = "/api/v1/persons/search"


class EnterpriseSearch(msgspec.Struct, frozen=True, kw_only=True, omit_defaults=True):
    """Enterprises on whose record a person appears (by person id, ID number, or both).

    In a POST body, not a query string: ID numbers must not land in proxies' access logs.
    """

    person_id: str | None = None
    id_number: str | None = None


class EnterpriseList(msgspec.Struct, frozen=True):
    enterprises: list[EnterpriseRecord]


class PersonSearch(msgspec.Struct, frozen=True):
    id_number: str


class PersonList(msgspec.Struct, frozen=True):
    persons: list[PersonRecord]
