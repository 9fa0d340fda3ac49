"""Kiosk sessions: the terminal reads the ID card, the face provider compares the visitor with it
(人证比对), and the visitor gets a short session bound to that terminal and that person,
ending after ``kiosk_idle_s`` without use or when the visitor (or the terminal) ends it.
"""

from __future__ import annotations

import base64
import binascii
from typing import Annotated

import msgspec
from msgspec import Meta

from backend.identity.config import Identity, get_identity
from backend.identity.face import FacePurpose, accept_face_result, face_provider_base, start_face_verification
from backend.identity.principal import APPLICANT, Principal, TokenPair, require_kiosk_terminal, sha256_hex
from backend.identity.sessions import end_session, issue_session
from backend.identity.tables import FaceVerification
from backend.lib.problems import ProblemError
from backend.lib.validators import validate_id_number
from backend.platform import Platform

KIOSK_PURPOSE: FacePurpose = "kiosk_login"


class KioskSessionStart(msgspec.Struct, kw_only=True):
    """What the terminal sends: the ID card it read and camera frames (base64 JPEG)."""

    id_number: str
    name: Annotated[str, Meta(min_length=1, max_length=50)]
    frames: Annotated[list[str], Meta(min_length=1, max_length=10)]


class KioskSession(msgspec.Struct, kw_only=True):
    """The visitor's session at the terminal (tokens for the kiosk front end to hold in memory)."""

    tokens: TokenPair
    name: str
    id_number_masked: str
    verification_id: str
    idle_timeout_s: int


async def _frames_result(identity: Identity, verification: FaceVerification, frames: list[bytes]) -> str:
    """Ask the face provider to compare frames with the card holder; returns its signed result."""
    if identity.config.face_provider_url:
        async with identity.http() as client:
            response = await client.post(
                f"{face_provider_base(identity)}/frames",
                json={
                    "verification_id": verification.verification_id,
                    "nonce": verification.nonce,
                    "id_number": verification.id_number,
                    "name": verification.person_name,
                    "frames": [base64.b64encode(f).decode() for f in frames],
                },
            )
        if response.status_code != 200:
            raise ProblemError(
                503, "face_provider_unavailable", "人脸识别服务暂不可用。 The face provider is unavailable."
            )
        return response.json()["result"]
    if identity.test_env:
        from backend.identity.sandbox import sandbox_face_frames

        return sandbox_face_frames(
            identity, verification.verification_id, verification.nonce, verification.id_number, frames
        )
    raise ProblemError(503, "face_provider_unavailable", "人脸识别服务未配置。 No face provider is configured.")


async def start_kiosk_session(platform: Platform, terminal: Principal, data: KioskSessionStart) -> KioskSession:
    """人证比对 at a terminal, then a session bound to the terminal and the card holder."""
    require_kiosk_terminal(terminal)
    identity = get_identity(platform)
    id_number = validate_id_number(data.id_number)
    try:
        frames = [base64.b64decode(f, validate=True) for f in data.frames]
    except (binascii.Error, ValueError) as exc:
        raise ProblemError(
            422, "invalid_frames", "摄像头图像格式错误。 Frames must be base64.", field="frames"
        ) from exc
    from backend.identity.directory import registration_directory

    try:
        person = await registration_directory(platform).person_by_id_number(id_number)
    except ProblemError:
        person = None
    person_id = person.person_id if person else "idn-" + sha256_hex(id_number)[:24]
    start = await start_face_verification(
        platform,
        person_id,
        KIOSK_PURPOSE,
        terminal.terminal_id or "",
        name=data.name,
        id_number=id_number,
        channel="kiosk",
        terminal_id=terminal.terminal_id or "",
    )
    row = await FaceVerification.objects().where(FaceVerification.verification_id == start.verification_id).first()
    assert row is not None  # start_face_verification has just stored it
    view = await accept_face_result(platform, await _frames_result(identity, row, frames))
    if view.status != "passed":
        raise ProblemError(
            403, "face_mismatch", "人脸与身份证不一致，请重试或到窗口办理。 The face does not match the ID card."
        )
    principal = Principal(
        subject=person_id,
        name=data.name,
        roles=[APPLICANT],
        auth_method="kiosk",
        person_id=person_id,
        id_number=id_number,
        hall=terminal.hall,
        terminal_id=terminal.terminal_id,
        face_verified_at=view.completed_at,
    )
    tokens = await issue_session(
        identity, principal, "kiosk", idle_timeout_s=identity.config.kiosk_idle_s, with_refresh=False
    )
    from backend.identity.masking import mask_id_number

    return KioskSession(
        tokens=tokens,
        name=data.name,
        id_number_masked=mask_id_number(id_number) or "",
        verification_id=view.verification_id,
        idle_timeout_s=identity.config.kiosk_idle_s,
    )


async def end_kiosk_session(platform: Platform, principal: Principal) -> None:
    """End the visitor's kiosk session (the visitor leaves, or the terminal wipes)."""
    if principal.auth_method != "kiosk":
        raise ProblemError(403, "forbidden", "不是自助终端会话。 Not a kiosk session.")
    await end_session(get_identity(platform), principal.session_id, "ended")
