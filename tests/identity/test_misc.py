"""Housekeeping, the test-environment switch, pluggable registration lookup, masking helpers."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from backend.identity import (
    Principal,
    mask_id_number,
    mask_phone,
    may_act_for,
    purge_expired,
    set_registration_directory,
)
from backend.identity.tables import LoginRequest, SeenJti
from backend.lib.problems import ProblemError
from backend.registration import EnterpriseRecord, Party
from backend.settings import load_settings
from tests.identity.conftest import TEST_BASE, build_identity_app, in_app

PERSON = Principal(
    subject="P900", name="甲", roles=["applicant"], auth_method="oidc", person_id="P900", id_number="350102199001011237"
)


def test_masking():
    assert mask_id_number("350102196602040372") == "3501************72"
    assert mask_phone("19900000002") == "199****0002"
    assert mask_id_number(None) is None and mask_phone("") == ""


async def test_purge_expired(api, clock):
    async def seed():
        now = clock.now_ms()
        await LoginRequest.insert(
            LoginRequest(state="old-state", nonce="n", code_verifier="v", created_at=now, expires_at=now + 1000)
        )
        await SeenJti.insert(SeenJti(jti="old-jti", issuer="t", expires_at=now + 1000))

    async def remaining():
        return (
            await LoginRequest.count().where(LoginRequest.state == "old-state"),
            await SeenJti.count().where(SeenJti.jti == "old-jti"),
        )

    await in_app(api, seed)
    await in_app(api, purge_expired, api.platform)
    assert await in_app(api, remaining) == (1, 1)
    clock.advance(2 * 3600)
    await in_app(api, purge_expired, api.platform)
    assert await in_app(api, remaining) == (0, 0)


class OneEnterprise:
    """A production-style registration lookup plugged in for one test."""

    async def enterprise(self, uscc):
        if uscc == "91350102MA0102003U":
            return EnterpriseRecord(
                uscc=uscc,
                name="甲公司",
                entity_type="company",
                region="350102",
                route="simplified",
                parties=[Party("P900", "甲", PERSON.id_number, "legal_rep")],
            )
        return None

    async def enterprises_of(self, person_id, id_number):
        return [await self.enterprise("91350102MA0102003U")]

    async def person(self, person_id):
        return None

    async def person_by_id_number(self, id_number):
        return None


async def test_test_environment_off(sqlite_url, tmp_path):
    settings = load_settings(
        env={}, database_url=sqlite_url, data_dir=str(tmp_path), public_url=TEST_BASE, test_env=False, log_format="text"
    )
    app = build_identity_app(settings, keys_file=str(tmp_path / "k.json"))
    # even if the sandbox routes were registered by mistake, they answer 404 with the test environment off
    from backend.identity import SANDBOX_ROUTES

    for router in SANDBOX_ROUTES:
        app.register(router)
    async with AsyncTestClient(app=app, base_url=TEST_BASE) as client:
        response = await client.post("/sandbox/token", json={"persona": "admin-platform"})
        assert response.status_code == 404
        platform = app.state["platform"]
        with pytest.raises(ProblemError) as unavailable:
            await in_app(client, may_act_for, platform, PERSON, "91350102MA0102003U")
        assert unavailable.value.status == 503
        set_registration_directory(platform, OneEnterprise())
        capacity = await in_app(client, may_act_for, platform, PERSON, "91350102MA0102003U")
        assert capacity and capacity.capacities == ["legal_rep"]
