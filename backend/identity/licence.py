"""E-licence (电子证照): fetch the business licence to prefill the application and waive the material.

The licence provider answers ``GET {provider}/{uscc}`` with ``{"licence": "<JWS>"}``, a JWT
(``typ`` ``licence+jwt``) signed with a key in its JWKS; the platform trusts only what
verifies. In the test environment the provider is ``/sandbox/licence`` over the fixture dataset.
"""

from __future__ import annotations

import msgspec

from backend.identity.config import SANDBOX_LICENCE_KEY, Identity, get_identity
from backend.identity.signed import verify_message
from backend.lib.problems import ProblemError
from backend.lib.validators import validate_uscc
from backend.platform import Platform

LICENCE_TYP = "licence+jwt"
LICENCE_MATERIAL = "business_licence"


class Licence(msgspec.Struct, kw_only=True):
    """营业执照 as the e-licence system certifies it."""

    uscc: str
    name: str
    entity_type: str
    region: str
    legal_representative: str
    licence_no: str
    issued_by: str
    verified: bool = True
    waives_material: str = LICENCE_MATERIAL
    """The material code this licence replaces (免提交营业执照)."""
    fetched_at: int = 0


def licence_provider_base(identity: Identity) -> str:
    return (identity.config.licence_provider_url or f"{identity.base_url}/sandbox/licence").rstrip("/")


async def fetch_licence(platform: Platform, uscc: str) -> Licence:
    """The enterprise's business licence from the e-licence system (verified), or a 404/503 problem."""
    uscc = validate_uscc(uscc)
    identity = get_identity(platform)
    base = licence_provider_base(identity)
    async with identity.http() as client:
        try:
            response = await client.get(f"{base}/{uscc}")
        except Exception as exc:
            raise ProblemError(
                503,
                "licence_unavailable",
                "电子证照系统暂不可用，请上传营业执照。 The e-licence system is unavailable.",
            ) from exc
    if response.status_code == 404:
        raise ProblemError(404, "licence_not_found", "未查询到该企业的电子营业执照。 No e-licence for this enterprise.")
    if response.status_code != 200:
        raise ProblemError(
            503, "licence_unavailable", "电子证照系统暂不可用，请上传营业执照。 The e-licence system is unavailable."
        )
    token = response.json().get("licence", "")
    source = identity.source(SANDBOX_LICENCE_KEY, identity.config.licence_provider_jwks_url)
    claims = await verify_message(identity, token, source, issuer=base, typ=LICENCE_TYP, audience=identity.base_url)
    data = dict(claims.get("licence") or {})
    if data.get("uscc") != uscc:
        raise ProblemError(502, "licence_invalid", "电子证照与查询企业不符。 The licence names another enterprise.")
    return msgspec.convert({**data, "fetched_at": identity.now_ms()}, Licence)
