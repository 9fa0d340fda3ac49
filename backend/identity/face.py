"""Face verification (人脸识别; at the kiosk 人证比对): start, signed provider result, and the check.

A verification is started for a person, a purpose (``submit``, ``sign``, ``kiosk_login`` …)
and a reference (a case id). On a phone the person opens the provider's URL; at a kiosk
the terminal sends camera frames with the ID card it read. Either way the provider answers
with a signed result (JWS, ``typ`` ``face-result+jwt``) naming the verification and its
nonce; ``accept_face_result`` verifies it and binds the outcome to the verification's
person and purpose. Forged, expired, replayed or mismatched results change nothing.
"""

from __future__ import annotations

import secrets
from typing import Annotated, Literal
from urllib.parse import urlencode

import msgspec

from backend.db import raw, writing_transaction
from backend.identity.config import SANDBOX_FACE_KEY, Identity, get_identity
from backend.identity.principal import new_id, sha256_hex
from backend.identity.signed import consume_jti, verify_message
from backend.identity.tables import FaceVerification
from backend.lib.problems import ProblemError
from backend.platform import Platform

FACE_RESULT_TYP = "face-result+jwt"
VERIFICATION_TTL_S = 600


FacePurpose = Literal["submit", "assisted_consent", "kiosk_login"]
"""What a face verification is for: submitting an application (reference: the draft's id), a
visitor's consent to assisted service (the assisted application's id), a kiosk login (the terminal)."""


class FaceVerificationNeeded(msgspec.Struct, kw_only=True):
    """The face verification that satisfies a requirement: start it with
    ``POST /api/v1/face-verifications`` and exactly this ``purpose`` and ``reference``."""

    purpose: FacePurpose
    reference: Annotated[str, msgspec.Meta(examples=["c_4f2a9b7e1d3c"])]


class FaceVerificationView(msgspec.Struct, kw_only=True):
    verification_id: str
    purpose: str
    reference: str
    channel: str
    status: Literal["pending", "passed", "failed", "expired"]
    created_at: int
    expires_at: int
    completed_at: int | None = None
    provider_url: str | None = None


class FaceStart(msgspec.Struct, kw_only=True):
    verification_id: str
    provider_url: str
    expires_at: int


def face_provider_base(identity: Identity) -> str:
    """The face provider's base URL; also its ``iss``."""
    return (identity.config.face_provider_url or f"{identity.base_url}/sandbox/face").rstrip("/")


def _view(identity: Identity, row: FaceVerification, provider_url: str | None = None) -> FaceVerificationView:
    status = row.status
    if status == "pending" and row.expires_at <= identity.now_ms():
        status = "expired"
    return FaceVerificationView(
        verification_id=row.verification_id,
        purpose=row.purpose,
        reference=row.reference,
        channel=row.channel,
        status=status,  # type: ignore[arg-type]
        created_at=row.created_at,
        expires_at=row.expires_at,
        completed_at=row.completed_at,
        provider_url=provider_url,
    )


async def start_face_verification(
    platform: Platform,
    person_id: str,
    purpose: FacePurpose,
    reference: str = "",
    *,
    name: str = "",
    id_number: str = "",
    channel: Literal["phone", "kiosk"] = "phone",
    terminal_id: str = "",
) -> FaceStart:
    """Start a verification; returns the provider URL the person opens on their phone."""
    identity = get_identity(platform)
    now = identity.now_ms()
    row = FaceVerification(
        verification_id=new_id("fv"),
        person_id=person_id,
        person_name=name,
        id_number=id_number,
        purpose=purpose[:40],
        reference=reference[:100],
        channel=channel,
        terminal_id=terminal_id,
        nonce=secrets.token_urlsafe(24),
        created_at=now,
        expires_at=now + VERIFICATION_TTL_S * 1000,
    )
    async with writing_transaction(platform.engine):
        await FaceVerification.insert(row)
    query = urlencode(
        {
            "verification_id": row.verification_id,
            "nonce": row.nonce,
            "name": name,
            "purpose": purpose,
            "callback": f"{identity.base_url}/api/v1/face-verifications/callback",
        }
    )
    return FaceStart(
        verification_id=row.verification_id,
        provider_url=f"{face_provider_base(identity)}/session?{query}",
        expires_at=row.expires_at,
    )


async def accept_face_result(platform: Platform, token: str) -> FaceVerificationView:
    """Verify the provider's signed result and record it; 401/409 problems leave the state unchanged."""
    identity = get_identity(platform)
    issuer = face_provider_base(identity)
    source = identity.source(SANDBOX_FACE_KEY, identity.config.face_provider_jwks_url)
    claims = await verify_message(
        identity, token, source, issuer=issuer, typ=FACE_RESULT_TYP, audience=identity.base_url
    )
    result = claims.get("result")
    if result not in ("passed", "failed"):
        raise ProblemError(401, "callback_invalid", "结果字段无效。 Invalid result.")
    now = identity.now_ms()
    async with writing_transaction(platform.engine):
        row = (
            await FaceVerification.objects()
            .where(FaceVerification.verification_id == str(claims.get("verification_id", "")))
            .first()
        )
        if row is None:
            raise ProblemError(404, "verification_not_found", "核验记录不存在。 No such verification.")
        if not secrets.compare_digest(str(claims.get("nonce", "")), row.nonce):
            raise ProblemError(
                409, "callback_nonce_mismatch", "核验随机数不符。 The nonce does not match the verification."
            )
        await consume_jti(identity, issuer, claims["jti"], claims["exp"])
        if row.status != "pending":
            raise ProblemError(
                409, "verification_completed", "该核验已有结果。 This verification already has a result."
            )
        if row.expires_at <= now:
            raise ProblemError(409, "verification_expired", "核验已过期，请重新发起。 The verification has expired.")
        if row.id_number and claims.get("subject_id_hash") and claims["subject_id_hash"] != sha256_hex(row.id_number):
            raise ProblemError(
                409, "callback_subject_mismatch", "核验对象与证件不符。 The verified person is not the card holder."
            )
        status = "passed" if result == "passed" else "failed"
        await FaceVerification.update(
            {
                FaceVerification.status: status,
                FaceVerification.score: int(claims.get("score") or 0),
                FaceVerification.completed_at: now,
                FaceVerification.evidence: token,
            }
        ).where((FaceVerification.id == row.id) & (FaceVerification.status == "pending"))
        row.status, row.completed_at = status, now
    return _view(identity, row)


async def get_face_verification(
    platform: Platform, verification_id: str, person_id: str | None = None
) -> FaceVerificationView:
    """One verification (of ``person_id`` when given), or 404."""
    identity = get_identity(platform)
    query = FaceVerification.objects().where(FaceVerification.verification_id == verification_id)
    if person_id is not None:
        query = query.where(FaceVerification.person_id == person_id)
    row = await query.first()
    if row is None:
        raise ProblemError(404, "verification_not_found", "核验记录不存在。 No such verification.")
    return _view(identity, row)


async def face_verified_at(
    platform: Platform, person_id: str, purpose: str, reference: str = "", max_age_s: int = 1800
) -> int | None:
    """When ``person_id`` last passed face verification for ``purpose``/``reference`` within ``max_age_s``."""
    identity = get_identity(platform)
    since = identity.now_ms() - max_age_s * 1000
    rows = await raw(  # prebuilt: every submission checks it (docs/benchmarks.md)
        FaceVerification,
        "SELECT max(completed_at) AS completed_at FROM identity_face_verification "
        "WHERE person_id = {} AND purpose = {} AND reference = {} AND status = 'passed' AND completed_at >= {}",
        person_id,
        purpose,
        reference,
        since,
    )
    return rows[0]["completed_at"]


async def require_face_verified(
    platform: Platform, person_id: str, purpose: FacePurpose, reference: str = "", max_age_s: int = 1800
) -> int:
    """The time of a recent passed verification, or 403 ``face_verification_required`` naming the one needed."""
    at = await face_verified_at(platform, person_id, purpose, reference, max_age_s)
    if at is None:
        raise ProblemError(
            403,
            "face_verification_required",
            "请先完成人脸识别。 Face verification is required first.",
            face_verification=FaceVerificationNeeded(purpose=purpose, reference=reference),
        )
    return at
