"""Registration lookup over real HTTP: the client against the test environment's registration
platform (signed both ways, in ES256 and in SM2 with SM3), its cache, and the outage path up to the
API's 503 problem."""

from __future__ import annotations

import asyncio
import contextlib

import httpx
import pytest
import uvicorn

from backend.connectors.registration_lookup.client import RegistrationLookupClient
from backend.connectors.registration_lookup.simulator import RegistrationSimulator, create_registration_app
from backend.connectors.signing import Verifier, generate_signing_key, jwks_of
from backend.lib.problems import ProblemError
from tests.cases.support import BASE_ANSWERS, HAPPY_PERSON, HAPPY_USCC
from tests.servers import free_port

CLIENT_ID = "yjs-platform"


@contextlib.asynccontextmanager
async def serve(app):
    """``app`` on a free loopback port in this event loop; yields its base URL."""
    port = free_port()
    server = uvicorn.Server(uvicorn.Config(app, host="127.0.0.1", port=port, log_config=None, access_log=False))
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


@pytest.fixture(params=["ES256", "SM2"])
async def registry(request):
    """(simulator, base URL, our private key): the registration platform trusting our key, both
    signing in the algorithm the deployment chose for it (the spec's ES256, or SM2)."""
    key = generate_signing_key(f"{CLIENT_ID}-1", request.param)
    sim = RegistrationSimulator(clients={CLIENT_ID: jwks_of(key)}, signature_algorithms=f"registration={request.param}")
    async with serve(create_registration_app(sim)) as url:
        yield sim, url, key


@pytest.fixture
async def lookup(registry):
    sim, url, key = registry
    client = RegistrationLookupClient(url, client_id=CLIENT_ID, signing_key=key, backoff=(0.01, 0.01))
    yield client
    await client.aclose()


async def test_the_record_arrives_whole_and_verified(registry, lookup):
    record = await lookup.enterprise(HAPPY_USCC)
    assert record is not None and record.uscc == HAPPY_USCC
    assert record.name and record.entity_type and record.region.startswith("35") and record.route
    legal = [p for p in record.parties if p.role == "legal_rep"]
    assert legal and legal[0].person_id == HAPPY_PERSON and legal[0].name == "林晓燕"
    assert record.bank_accounts and record.seals  # accounts and seals (the plan's BANK and SEAL items)
    assert record.facts()["has_customs_filing"] == (record.customs_code is not None)
    assert await lookup.enterprise("91350000000000000X") is None  # not found is an answer, not an error
    person = await lookup.person(HAPPY_PERSON)
    assert person is not None and person.name == "林晓燕"
    assert await lookup.person_by_id_number(person.id_number) == person
    mine = await lookup.enterprises_of(HAPPY_PERSON, person.id_number)
    assert HAPPY_USCC in {e.uscc for e in mine}


async def test_the_cache_never_answers_one_person_with_anothers_view(registry, lookup):
    sim, _, _ = registry
    a = await lookup.person("P002")
    b = await lookup.person("P004")
    first_a = await lookup.enterprises_of("P002", a.id_number)
    first_b = await lookup.enterprises_of("P004", b.id_number)
    assert {e.uscc for e in first_a} != {e.uscc for e in first_b}
    # Same person id, someone else's ID number: a different question, so a fresh lookup.
    before = sim.lookups
    crossed = await lookup.enterprises_of("P002", b.id_number)
    assert sim.lookups == before + 1
    assert {e.uscc for e in crossed} == {e.uscc for e in first_a} | {e.uscc for e in first_b}
    # The same questions again come from the cache, each with its own answer.
    before = sim.lookups
    assert await lookup.enterprises_of("P002", a.id_number) == first_a
    assert await lookup.enterprises_of("P004", b.id_number) == first_b
    assert sim.lookups == before


async def test_retries_a_failing_system_then_says_unavailable(registry, lookup):
    sim, url, _ = registry
    async with httpx.AsyncClient(base_url=url) as admin:
        await admin.patch("/admin/faults", json={"fail_next": 2})
        assert (await lookup.enterprise(HAPPY_USCC)) is not None  # third attempt answers
        await admin.patch("/admin/faults", json={"down": True})
        with pytest.raises(ProblemError) as raised:
            await lookup.enterprise("91350128MA0428396P")
        assert raised.value.status == 503 and raised.value.code == "registration_lookup_unavailable"
        assert int(raised.value.headers["Retry-After"]) > 0
        await admin.patch("/admin/faults", json={"down": False})
    assert (await lookup.enterprise("91350128MA0428396P")) is not None


async def test_an_unreachable_system_is_unavailable_not_an_error():
    client = RegistrationLookupClient(
        f"http://127.0.0.1:{free_port()}", client_id=CLIENT_ID, signing_key=generate_signing_key(), backoff=(0.01,)
    )
    try:
        with pytest.raises(ProblemError) as raised:
            await client.enterprise(HAPPY_USCC)
        assert raised.value.code == "registration_lookup_unavailable"
    finally:
        await client.aclose()


async def test_answers_signed_by_another_key_are_not_believed(registry):
    sim, url, key = registry
    impostor = jwks_of(generate_signing_key("impostor", sim.signature_algorithm))
    client = RegistrationLookupClient(url, client_id=CLIENT_ID, signing_key=key, system_jwks=impostor, backoff=(0.01,))
    try:
        with pytest.raises(ProblemError) as raised:
            await client.enterprise(HAPPY_USCC)
        assert raised.value.code == "registration_lookup_unavailable"
    finally:
        await client.aclose()


async def test_neither_side_accepts_the_other_algorithm(registry):
    """A system on SM2 believes no ES256 signature, even from a key it was told to trust, and the
    platform believes no answer in an algorithm other than the one agreed; and the other way round."""
    sim, url, key = registry
    other = "ES256" if sim.signature_algorithm == "SM2" else "SM2"
    foreign = generate_signing_key(f"{CLIENT_ID}-2", other)  # we sign in the other algorithm
    client = RegistrationLookupClient(
        url, client_id=CLIENT_ID, signing_key=foreign, system_jwks=jwks_of(sim.signing_key), backoff=()
    )
    try:
        sim.clients[CLIENT_ID] = Verifier(jwks_of(key, foreign), sim.algorithms)
        refused = sim.refused
        with pytest.raises(ProblemError):
            await client.enterprise(HAPPY_USCC)
        assert sim.refused == refused + 1  # the system refused the request

        sim.clients[CLIENT_ID] = Verifier(jwks_of(key, foreign))  # a system that lets it through ...
        lookups = sim.lookups
        with pytest.raises(ProblemError) as raised:
            await client.enterprise(HAPPY_USCC)
        assert sim.lookups == lookups + 1  # ... answers in its own algorithm, which we do not believe
        assert raised.value.code == "registration_lookup_unavailable"
    finally:
        await client.aclose()


async def test_the_system_refuses_unsigned_and_foreign_requests(registry):
    sim, url, _ = registry
    async with httpx.AsyncClient(base_url=url) as raw:
        unsigned = await raw.get(f"/api/v1/enterprises/{HAPPY_USCC}", headers={"X-Client-Id": CLIENT_ID})
        assert unsigned.status_code == 401
    stranger = RegistrationLookupClient(url, client_id=CLIENT_ID, signing_key=generate_signing_key(), backoff=())
    try:
        with pytest.raises(ProblemError):
            await stranger.enterprise(HAPPY_USCC)
    finally:
        await stranger.aclose()
    assert sim.refused >= 2


@pytest.mark.slow  # a live platform over HTTP
async def test_the_api_answers_503_with_retry_after_and_keeps_what_was_typed(registry, tmp_path):
    from backend.integration import platform_jwks
    from tests.cases.live import serve_platform

    sim, url, _ = registry
    async with (
        serve_platform(
            tmp_path,
            registration_lookup_url=url,
            signature_algorithms=f"registration={sim.signature_algorithm}",
            connector_base_url="http://127.0.0.1:9/sim",
        ) as app,
        httpx.AsyncClient(base_url=app.state.platform.settings.base_url, timeout=30) as api,
        httpx.AsyncClient(base_url=url) as admin,
    ):
        # the registration platform trusts the platform's published keys (both rings: it must pick the agreed one)
        sim.clients[CLIENT_ID] = Verifier(platform_jwks(app.state.platform.settings), sim.algorithms)
        token = (await api.post("/sandbox/token", json={"persona": "applicant-p002"})).json()["access_token"]
        auth = {"Authorization": f"Bearer {token}"}
        before = sim.lookups
        created = await api.post("/api/v1/cases", json={"uscc": HAPPY_USCC}, headers=auth)
        assert created.status_code == 201, created.text
        assert sim.lookups > before  # the record came over HTTP
        case = created.json()
        assert case["form_data"]["legal_rep_name"] == "林晓燕"

        await admin.patch("/admin/faults", json={"down": True})
        app.state.platform.registration._cache.clear()  # past the cache's few seconds
        refused = await api.post("/api/v1/cases", json={"uscc": "91350128MA0428396P"}, headers=auth)
        assert refused.status_code == 503
        assert refused.headers["content-type"].startswith("application/problem+json")
        assert refused.json()["code"] == "registration_lookup_unavailable"
        assert int(refused.headers["Retry-After"]) > 0
        typed = {**BASE_ANSWERS, "route": "simple"}
        edit = {"answers": typed, "version": case["version"]}
        saved = await api.patch(f"/api/v1/cases/{case['id']}", json=edit, headers=auth)
        assert saved.status_code == 503 and saved.json()["code"] == "registration_lookup_unavailable"

        await admin.patch("/admin/faults", json={"down": False})
        again = await api.get(f"/api/v1/cases/{case['id']}", headers=auth)
        assert again.status_code == 200, again.text
        assert again.json()["version"] == case["version"]  # the refused save changed nothing ...
        saved = await api.patch(f"/api/v1/cases/{case['id']}", json=edit, headers=auth)
        assert saved.status_code == 200, saved.text  # ... so the device's kept edit goes through as it was
        assert saved.json()["answers"]["route"] == "simple"


def test_the_published_interface_is_current_and_served():
    from backend.connectors.registration_lookup import spec

    assert spec.main(["--check"]) == 0, "run python -m backend.connectors.registration_lookup.spec"
    app = create_registration_app(RegistrationSimulator())
    served = {
        route.path.replace("{uscc:str}", "{uscc}").replace("{person_id:str}", "{person_id}") for route in app.routes
    }
    assert set(spec.openapi_document()["paths"]) <= served
