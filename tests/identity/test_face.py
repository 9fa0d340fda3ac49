"""Face verification: provider page, signed callbacks (forged, expired, replayed, mismatched refused,
state unchanged), the check the case backend calls, and the kiosk's 人证比对 sessions."""

from __future__ import annotations

import base64
import uuid
from urllib.parse import parse_qs, urlsplit

import pytest
from joserfc import jwt
from joserfc.jwk import ECKey

from backend.identity import get_identity, require_face_verified
from backend.identity.config import SANDBOX_FACE_KEY
from backend.identity.face import FACE_RESULT_TYP, face_provider_base
from backend.identity.sandbox import sandbox_face_result
from backend.lib.problems import ProblemError
from tests.identity.conftest import bearer, in_app, token_for

P002_ID = "350102196602040372"


async def _start(client, persona: str = "applicant-p002", reference: str | None = None) -> tuple[dict, dict, dict]:
    reference = reference or f"case-{uuid.uuid4().hex[:12]}"
    tokens = await token_for(client, persona)
    started = await client.post(
        "/api/v1/face-verifications", json={"purpose": "submit", "reference": reference}, headers=bearer(tokens)
    )
    assert started.status_code == 201, started.text
    body = started.json()
    query = {k: v[0] for k, v in parse_qs(urlsplit(body["provider_url"]).query).items()}
    query["reference"] = reference
    return tokens, body, query


async def _status(client, tokens, verification_id) -> str:
    return (await client.get(f"/api/v1/face-verifications/{verification_id}", headers=bearer(tokens))).json()["status"]


async def _callback(client, token: str):
    return await client.post("/api/v1/face-verifications/callback", json={"jws": token})


async def test_phone_flow_through_the_provider_page(any_api):
    tokens, body, query = await _start(any_api)
    page = await any_api.get(urlsplit(body["provider_url"]).path, params=query)
    assert page.status_code == 200 and "模拟人脸识别通过" in page.text
    decided = await any_api.post(
        "/sandbox/face/session",
        data={"verification_id": query["verification_id"], "nonce": query["nonce"], "decision": "passed"},
    )
    assert decided.status_code == 200 and "通过" in decided.text
    assert await _status(any_api, tokens, body["verification_id"]) == "passed"
    at = await in_app(any_api, require_face_verified, any_api.platform, "P002", "submit", query["reference"], 600)
    assert at > 0
    with pytest.raises(ProblemError) as other_purpose:
        await in_app(any_api, require_face_verified, any_api.platform, "P002", "sign", query["reference"], 600)
    assert other_purpose.value.code == "face_verification_required"
    with pytest.raises(ProblemError):  # someone else's verification does not count
        await in_app(any_api, require_face_verified, any_api.platform, "P003", "submit", query["reference"], 600)


async def test_failed_verification_does_not_count(api):
    tokens, body, query = await _start(api)
    identity = get_identity(api.platform)
    assert (
        await _callback(api, sandbox_face_result(identity, query["verification_id"], query["nonce"], "failed"))
    ).status_code == 200
    assert await _status(api, tokens, body["verification_id"]) == "failed"
    with pytest.raises(ProblemError):
        await in_app(api, require_face_verified, api.platform, "P002", "submit", query["reference"], 600)


async def test_forged_callback_is_refused(api):
    tokens, body, query = await _start(api)
    identity = get_identity(api.platform)
    kid = identity.signing_key(SANDBOX_FACE_KEY).kid
    impostor = ECKey.generate_key("P-256", parameters={"kid": kid}, private=True)
    now = identity.now_s()
    claims = {
        "iss": face_provider_base(identity),
        "aud": identity.base_url,
        "iat": now,
        "exp": now + 60,
        "jti": "forged-1",
        "verification_id": query["verification_id"],
        "nonce": query["nonce"],
        "result": "passed",
    }
    forged = jwt.encode({"alg": "ES256", "kid": kid, "typ": FACE_RESULT_TYP}, claims, impostor)
    response = await _callback(api, forged)
    assert response.status_code == 401 and response.json()["code"] == "callback_invalid"
    unsigned = jwt.encode(
        {"alg": "HS256", "typ": FACE_RESULT_TYP}, claims, __import__("joserfc").jwk.OctKey.import_key("s" * 32)
    )
    assert (await _callback(api, unsigned)).status_code == 401
    assert (await _callback(api, "garbage")).status_code == 401
    assert await _status(api, tokens, body["verification_id"]) == "pending"


async def test_expired_callback_is_refused(api, clock):
    tokens, body, query = await _start(api)
    identity = get_identity(api.platform)
    token = sandbox_face_result(identity, query["verification_id"], query["nonce"], "passed", ttl_s=60)
    clock.advance(61)
    response = await _callback(api, token)
    assert response.status_code == 401 and response.json()["code"] == "callback_expired"
    long_lived = sandbox_face_result(identity, query["verification_id"], query["nonce"], "passed", ttl_s=3600)
    assert (await _callback(api, long_lived)).status_code == 401  # validity must be short
    assert await _status(api, tokens, body["verification_id"]) == "pending"


async def test_replayed_callback_is_refused(any_api):
    tokens, body, query = await _start(any_api)
    identity = get_identity(any_api.platform)
    token = sandbox_face_result(identity, query["verification_id"], query["nonce"], "passed")
    assert (await _callback(any_api, token)).status_code == 200
    replay = await _callback(any_api, token)
    assert replay.status_code == 409 and replay.json()["code"] == "callback_replayed"
    # a fresh message cannot overturn a recorded result either
    overturn = await _callback(
        any_api, sandbox_face_result(identity, query["verification_id"], query["nonce"], "failed")
    )
    assert overturn.status_code == 409
    assert await _status(any_api, tokens, body["verification_id"]) == "passed"


async def test_nonce_mismatch_and_wrong_issuer_are_refused(api):
    tokens, body, query = await _start(api)
    identity = get_identity(api.platform)
    wrong_nonce = await _callback(api, sandbox_face_result(identity, query["verification_id"], "other-nonce", "passed"))
    assert wrong_nonce.status_code == 409 and wrong_nonce.json()["code"] == "callback_nonce_mismatch"
    now = identity.now_s()
    other_iss = jwt.encode(
        {"alg": "ES256", "kid": identity.signing_key(SANDBOX_FACE_KEY).kid, "typ": FACE_RESULT_TYP},
        {
            "iss": "https://elsewhere",
            "aud": identity.base_url,
            "iat": now,
            "exp": now + 60,
            "jti": "x1",
            "verification_id": query["verification_id"],
            "nonce": query["nonce"],
            "result": "passed",
        },
        identity.signing_key(SANDBOX_FACE_KEY),
    )
    assert (await _callback(api, other_iss)).status_code == 401
    assert await _status(api, tokens, body["verification_id"]) == "pending"


async def test_verification_max_age(api, clock):
    tokens, body, query = await _start(api)
    identity = get_identity(api.platform)
    assert (
        await _callback(api, sandbox_face_result(identity, query["verification_id"], query["nonce"], "passed"))
    ).status_code == 200
    await in_app(api, require_face_verified, api.platform, "P002", "submit", query["reference"], 300)
    clock.advance(301)
    with pytest.raises(ProblemError):
        await in_app(api, require_face_verified, api.platform, "P002", "submit", query["reference"], 300)


def _frames(*frames: bytes) -> list[str]:
    return [base64.b64encode(f).decode() for f in frames]


async def test_kiosk_person_id_card_match_and_session(any_api, clock):
    terminal = await token_for(any_api, "kiosk-fz-01")
    started = await any_api.post(
        "/api/v1/kiosk/sessions",
        json={"id_number": P002_ID, "name": "林晓燕", "frames": _frames(b"jpeg-1", b"jpeg-2")},
        headers=bearer(terminal),
    )
    assert started.status_code == 201, started.text
    session = started.json()
    assert session["id_number_masked"].count("*") == 12
    visitor = session["tokens"]
    assert visitor["refresh_token"] is None
    me = (await any_api.get("/api/v1/me", headers=bearer(visitor))).json()
    assert (
        me["auth_method"] == "kiosk"
        and me["person_id"] == "P002"
        and me["terminal_id"] == "kiosk-fz-01"
        and me["face_verified_at"]
    )
    assert "91350102MA0102003U" in [e["uscc"] for e in me["enterprises"]]
    # the visitor cannot start other visitors' sessions
    assert (
        await any_api.post(
            "/api/v1/kiosk/sessions",
            json={"id_number": P002_ID, "name": "林晓燕", "frames": _frames(b"x")},
            headers=bearer(visitor),
        )
    ).status_code == 403

    idle = get_identity(any_api.platform).config.kiosk_idle_s
    clock.advance(idle - 5)
    assert (await any_api.get("/api/v1/me", headers=bearer(visitor))).status_code == 200  # use keeps it alive
    clock.advance(idle + 1)
    timed_out = await any_api.get("/api/v1/me", headers=bearer(visitor))
    assert timed_out.status_code == 401
    assert (await any_api.get("/api/v1/me", headers=bearer(visitor))).status_code == 401  # stays ended


async def test_kiosk_mismatch_and_explicit_end(api):
    terminal = await token_for(api, "kiosk-fz-01")
    mismatch = await api.post(
        "/api/v1/kiosk/sessions",
        json={"id_number": P002_ID, "name": "林晓燕", "frames": _frames(b"mismatch")},
        headers=bearer(terminal),
    )
    assert mismatch.status_code == 403 and mismatch.json()["code"] == "face_mismatch"
    bad_card = await api.post(
        "/api/v1/kiosk/sessions",
        json={"id_number": "350102196602040371", "name": "林晓燕", "frames": _frames(b"x")},
        headers=bearer(terminal),
    )
    assert bad_card.status_code == 422
    ok = (
        await api.post(
            "/api/v1/kiosk/sessions",
            json={"id_number": P002_ID, "name": "林晓燕", "frames": _frames(b"x")},
            headers=bearer(terminal),
        )
    ).json()
    visitor = ok["tokens"]
    assert (await api.post("/api/v1/kiosk/sessions/end", headers=bearer(visitor))).status_code == 204
    assert (await api.get("/api/v1/me", headers=bearer(visitor))).status_code == 401
