"""Kiosk terminal credentials: registered by an admin, each with its own key; signed assertions."""

from __future__ import annotations

import uuid

from joserfc import jwt
from joserfc.jwk import ECKey

from backend.identity import get_identity
from tests.identity.conftest import bearer, token_for


def _assertion(key: ECKey, terminal_id: str, aud: str, now: int, *, ttl: int = 60, jti: str | None = None) -> str:
    claims = {
        "iss": terminal_id,
        "sub": terminal_id,
        "aud": aud,
        "iat": now,
        "exp": now + ttl,
        "jti": jti or uuid.uuid4().hex,
    }
    return jwt.encode({"alg": "ES256"}, claims, key)


async def test_terminal_registration_and_assertion(any_api, clock):
    admin = await token_for(any_api, "admin-platform")
    window = await token_for(any_api, "window-fuzhou")
    key = ECKey.generate_key("P-256", private=True)
    terminal_id = f"kiosk-{uuid.uuid4().hex[:8]}"
    registration = {
        "terminal_id": terminal_id,
        "name": "福州大厅 3 号机",
        "hall": "hall-350100",
        "region": "350100",
        "public_jwk": key.as_dict(private=False),
    }
    assert (await any_api.post("/api/v1/kiosk/terminals", json=registration, headers=bearer(window))).status_code == 403
    private = await any_api.post(
        "/api/v1/kiosk/terminals", json={**registration, "public_jwk": key.as_dict(private=True)}, headers=bearer(admin)
    )
    assert private.status_code == 422
    created = await any_api.post("/api/v1/kiosk/terminals", json=registration, headers=bearer(admin))
    assert created.status_code == 201, created.text
    assert (await any_api.post("/api/v1/kiosk/terminals", json=registration, headers=bearer(admin))).status_code == 409

    identity = get_identity(any_api.platform)
    aud = f"{identity.base_url}/auth/terminal/token"
    now = identity.now_s()
    assertion = _assertion(key, terminal_id, aud, now)
    issued = await any_api.post("/auth/terminal/token", json={"assertion": assertion})
    assert issued.status_code == 200, issued.text
    tokens = issued.json()
    assert tokens["refresh_token"] is None  # a terminal gets no refresh token
    me = (await any_api.get("/api/v1/me", headers=bearer(tokens))).json()
    assert (
        me["roles"] == ["kiosk_terminal"]
        and me["terminal_id"] == terminal_id
        and me["hall"] == "hall-350100"
        and me["auth_method"] == "terminal_key"
    )

    assert (await any_api.post("/auth/terminal/token", json={"assertion": assertion})).status_code == 409  # replay
    impostor = ECKey.generate_key("P-256", private=True)
    assert (
        await any_api.post("/auth/terminal/token", json={"assertion": _assertion(impostor, terminal_id, aud, now)})
    ).status_code == 401
    assert (
        await any_api.post(
            "/auth/terminal/token", json={"assertion": _assertion(key, terminal_id, "https://elsewhere", now)}
        )
    ).status_code == 401
    assert (
        await any_api.post("/auth/terminal/token", json={"assertion": _assertion(key, terminal_id, aud, now, ttl=3600)})
    ).status_code == 401
    stale = _assertion(key, terminal_id, aud, now, ttl=30)
    clock.advance(31)
    assert (await any_api.post("/auth/terminal/token", json={"assertion": stale})).status_code == 401

    listed = (await any_api.get("/api/v1/kiosk/terminals", headers=bearer(admin))).json()
    assert terminal_id in [t["terminal_id"] for t in listed]
    assert (
        await any_api.post(f"/api/v1/kiosk/terminals/{terminal_id}/disable", headers=bearer(admin))
    ).status_code == 200
    disabled = await any_api.post(
        "/auth/terminal/token", json={"assertion": _assertion(key, terminal_id, aud, identity.now_s())}
    )
    assert disabled.status_code == 401
