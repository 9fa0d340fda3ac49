"""Finding 8 (low): access tokens outlived logout and refresh-token reuse.

The principal was read from the access token alone, so a token stayed good for its whole life
(about ten minutes) after its session had ended. Every request now asks whether the token's session
is still open, through a short per-process cache that the end of a session clears at once: in the
process that ended it directly, in every other through the channels (Redis in production).
"""

from __future__ import annotations

import httpx
import pytest

from tests.cases.conftest import clean_database_at
from tests.cases.live import serve_platform, wait_until
from tests.security.support import bearer


async def _pair(client: httpx.AsyncClient, persona: str = "applicant-p004") -> dict:
    response = await client.post("/sandbox/token", json={"persona": persona})
    assert response.status_code == 200, response.text
    return response.json()


async def test_finding08_logout_ends_the_access_token(live):
    pair = await _pair(live.client)
    token = bearer(pair["access_token"])
    assert (await live.client.get("/api/v1/me", headers=token)).status_code == 200
    out = await live.client.post("/auth/logout", headers=token)
    assert out.status_code == 204, out.text
    after = await live.client.get("/api/v1/me", headers=token)
    assert after.status_code == 401 and after.json()["code"] == "unauthenticated", after.text
    assert (await live.client.get("/api/v1/cases", headers=token)).status_code == 401


async def test_finding08_refresh_token_reuse_ends_every_access_token_of_the_session(live):
    pair = await _pair(live.client)
    first = bearer(pair["access_token"])
    assert (await live.client.get("/api/v1/me", headers=first)).status_code == 200
    rotated = await live.client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})
    assert rotated.status_code == 200, rotated.text
    second = bearer(rotated.json()["access_token"])
    assert (await live.client.get("/api/v1/me", headers=second)).status_code == 200
    reused = await live.client.post("/auth/refresh", json={"refresh_token": pair["refresh_token"]})  # it leaked
    assert reused.status_code == 401, reused.text
    for token in (first, second):
        assert (await live.client.get("/api/v1/me", headers=token)).status_code == 401


@pytest.mark.postgres
@pytest.mark.redis
async def test_finding08_a_logout_in_one_api_process_ends_the_token_in_another(pg_url, redis_url, tmp_path):
    """Two API processes of one deployment: B trusts an open session for ten minutes here, so only
    the notice over Redis can make it refuse the token as soon as A ends the session."""
    from backend.identity import get_identity

    await clean_database_at(pg_url)
    options = dict(database_url=pg_url, redis_url=redis_url, connector_base_url="http://127.0.0.1:9/sim")
    async with serve_platform(tmp_path, **options) as one:
        url = str(one.state.platform.settings.base_url)
        async with (
            serve_platform(tmp_path, public_url=url.rstrip("/"), **options) as other,
            httpx.AsyncClient(base_url=url) as a,
            httpx.AsyncClient(base_url=f"http://127.0.0.1:{other.state.platform.settings.port}") as b,
        ):
            get_identity(other.state.platform).config.session_check_s = 600
            pair = await _pair(a)
            token = bearer(pair["access_token"])
            assert (await b.get("/api/v1/me", headers=token)).status_code == 200  # B now trusts the session
            assert (await a.post("/auth/logout", headers=token)).status_code == 204

            async def b_refuses() -> bool:
                return (await b.get("/api/v1/me", headers=token)).status_code == 401

            assert await wait_until(b_refuses, timeout=10, interval=0.05, what="B refuses the ended session")


async def test_finding08_class_disabling_a_terminal_ends_its_tokens(live):
    """Same class: a disabled kiosk terminal kept its access token until it expired."""
    import uuid

    from joserfc import jwt
    from joserfc.jwk import ECKey

    from backend.identity import get_identity

    admin = bearer(live.tokens["admin"])
    key = ECKey.generate_key("P-256", private=True)
    terminal_id = f"kiosk-{uuid.uuid4().hex[:8]}"
    registered = await live.client.post(
        "/api/v1/kiosk/terminals",
        json={
            "terminal_id": terminal_id,
            "name": "福州大厅 9 号机",
            "hall": "hall-350100",
            "region": "350100",
            "public_jwk": key.as_dict(private=False),
        },
        headers=admin,
    )
    assert registered.status_code == 201, registered.text
    identity = get_identity(live.platform)
    now = identity.now_s()
    claims = {
        "iss": terminal_id,
        "sub": terminal_id,
        "aud": f"{identity.base_url}/auth/terminal/token",
        "iat": now,
        "exp": now + 60,
        "jti": uuid.uuid4().hex,
    }
    issued = await live.client.post(
        "/auth/terminal/token", json={"assertion": jwt.encode({"alg": "ES256"}, claims, key)}
    )
    assert issued.status_code == 200, issued.text
    terminal = bearer(issued.json()["access_token"])
    assert (await live.client.get("/api/v1/me", headers=terminal)).status_code == 200
    disabled = await live.client.post(f"/api/v1/kiosk/terminals/{terminal_id}/disable", headers=admin)
    assert disabled.status_code == 200, disabled.text
    assert (await live.client.get("/api/v1/me", headers=terminal)).status_code == 401
