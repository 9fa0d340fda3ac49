"""What tests over HTTP share: a sandbox session, its Bearer header, and RFC 9457 problem checks."""

from __future__ import annotations

from typing import Any


def bearer(token: str | dict[str, Any] | None) -> dict[str, str]:
    """The Authorization header for an access token (or a token response); none for None."""
    if isinstance(token, dict):
        token = token["access_token"]
    return {"Authorization": f"Bearer {token}"} if token else {}


async def sandbox_tokens(client, persona: str) -> dict[str, Any]:
    """The token response for a test persona (``POST /sandbox/token``)."""
    response = await client.post("/sandbox/token", json={"persona": persona})
    assert response.status_code == 200, response.text
    return response.json()


async def session_token(client, persona: str) -> str:
    """An access token for a test persona."""
    return (await sandbox_tokens(client, persona))["access_token"]


async def login(client, persona: str) -> dict[str, str]:
    """The Bearer header of a fresh session for a test persona."""
    return bearer(await session_token(client, persona))


def assert_problem(response, status: int, code: str, field: str | None = None) -> dict[str, Any]:
    """The response is an RFC 9457 problem with this status and code (and an error on ``field``)."""
    assert response.status_code == status, (response.status_code, response.text)
    assert response.headers["content-type"].startswith("application/problem+json"), response.headers
    body = response.json()
    assert body["code"] == code, body
    assert "Traceback" not in response.text
    if field:
        assert field in [e["field"] for e in body.get("errors") or []], body
    return body
