"""The conformance kit passes our simulators (agency systems and the registration lookup) and reports a
broken implementation clearly."""

from __future__ import annotations

import contextlib
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
from connectors_support import LiveServer
from litestar import Request, Response

from backend.connectors.conformance import format_report, main, run_conformance
from backend.connectors.registration_lookup.simulator import RegistrationSimulator, create_registration_app
from backend.connectors.registry import all_specs
from backend.connectors.signing import (
    JWS_ALGORITHMS,
    SIGNATURE_HEADER,
    Signer,
    Verifier,
    generate_signing_key,
    jwks_of,
)
from backend.fixtures import load_fixtures
from backend.sandbox.simulator import SimulatorEngine, create_simulator_app


class BrokenEngine(SimulatorEngine):
    """A careless implementation: ignores idempotency, trusts unsigned requests, signs callbacks with an
    unpublished key."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._rogue = Signer(generate_signing_key(self.signer.kid))

    def authenticate(self, request: Request[Any, Any, Any], body: bytes) -> tuple[str, str] | Response[bytes]:
        if not request.headers.get("X-Signature"):
            return "anonymous", ""
        return super().authenticate(request, body)

    def _replay(self, client_id: str, key: str, body: bytes, jti: str) -> Response[bytes] | None:
        return None

    def _remember(self, *args: Any) -> None:
        return None

    async def _deliver(self, url: str, event: Any, *, malformed_first: bool = False) -> bool:
        real, self.signer = self.signer, self._rogue
        try:
            return await super()._deliver(url, event, malformed_first=malformed_first)
        finally:
            self.signer = real

    async def _deliver_batch(self, url: str, batch: Any) -> None:
        real, self.signer = self.signer, self._rogue
        try:
            await super()._deliver_batch(url, batch)
        finally:
            self.signer = real


class ForgetfulBatches(SimulatorEngine):
    """Lean, but takes a batch's 2xx as settling every event: an event answered ``retry`` is lost."""

    async def _deliver_batch(self, url: str, batch: Any) -> None:
        import msgspec

        from backend.connectors.base import CallbackBatch
        from backend.connectors.signing import SIGNATURE_HEADER

        try:
            body = msgspec.json.encode(CallbackBatch(events=[e for e, _ in batch]))
            signature, _ = self.signer.sign(body)
            async with self._http.session().post(url, data=body, headers={SIGNATURE_HEADER: signature}) as resp:
                await resp.read()
        finally:
            self._deliveries.release()
        for _, settled in batch:
            settled.set_result(True)


@pytest.fixture(scope="module", params=["lean", "classic"])
def broken_url(request):
    spec = all_specs()["etax"]
    engine = BrokenEngine(spec, callback_max_attempts=1, lean=request.param == "lean")
    # item_ref duplicates would hide the missing idempotency: forget item refs too
    engine._by_item_ref = _Forgetful()
    server = LiveServer(create_simulator_app("etax", engine)).start()
    yield server.url
    server.stop()


class _Forgetful(dict):
    def get(self, key, default=None):  # noqa: D102
        return default


@pytest.mark.asyncio
@pytest.mark.parametrize(("system", "alg"), [("amr", "ES256"), ("customs-fz", "SM2SM3"), ("si-pension", "SM2SM3")])
async def test_kit_passes_our_simulator(env, system, alg):
    results = await run_conformance(system, f"{env['sandbox'].url}/sim/{system}", wait_seconds=10)
    report = format_report(system, "x", results)
    assert all(r.passed for r in results), report
    assert report.count("PASS") == len(results) and "0 failed" in report
    checked = {r.name: r.detail for r in results}["signs and accepts only the specified algorithm"]
    other = "ES256" if alg == "SM2SM3" else "SM2SM3"
    assert checked == f"answers signed {alg}; {other} refused (HTTP 401, its key registered)"


class LaxEngine(SimulatorEngine):
    """Specified as SM2, but trusts a client's keys of any algorithm (an ES256 signature gets in)."""

    def register_client(self, client_id: str, jwks: Any) -> None:
        self.clients[client_id] = Verifier(jwks)


@pytest.mark.slow  # serves a simulator over HTTP
@pytest.mark.asyncio
async def test_kit_reports_a_system_accepting_the_other_algorithm():
    engine = LaxEngine(all_specs()["customs-xm"], callback_max_attempts=1)
    server = LiveServer(create_simulator_app("customs-xm", engine)).start()
    try:
        results = await run_conformance("customs-xm", server.url, wait_seconds=5)
    finally:
        server.stop()
    verdict = {r.name: r for r in results}
    check = verdict["signs and accepts only the specified algorithm"]
    assert not check.passed and "a request signed ES256 was answered HTTP" in check.detail
    assert verdict["accepts a valid signed submission"].passed  # SM2 itself works


@pytest.mark.parametrize("form", ["lean", "classic"])
async def test_kit_passes_our_simulator_in_either_form(env, form):
    lean = form == "lean"
    httpx.put(
        f"{env['sandbox'].url}/sim/amr/admin/protocol", json={"sync_accept": lean, "batch_callbacks": lean}
    ).raise_for_status()
    try:
        results = await run_conformance("amr", f"{env['sandbox'].url}/sim/amr", wait_seconds=10)
    finally:
        httpx.put(f"{env['sandbox'].url}/sim/amr/admin/protocol", json={}).raise_for_status()  # back to lean
    report = format_report("amr", "x", results)
    assert all(r.passed for r in results), report
    assert report.count("PASS") == len(results) and "0 failed" in report
    if lean:
        assert "PASS  lean form (optional): accepted in the answer — lean form: accepted in the answer" in report
        assert "lean form: " in report.split("batch callbacks answered per event — ")[1]
        assert env["engines"]["amr"].stats.events_retried >= 1  # the kit answered one event retry; it came again
    else:
        assert "classic form: 受理 comes as an accepted callback" in report
        assert "classic form: one signed event per callback" in report


@pytest.mark.slow  # serves a simulator over HTTP
@pytest.mark.asyncio
async def test_kit_reports_an_agency_that_drops_events_answered_retry():
    server = LiveServer(create_simulator_app("amr", ForgetfulBatches(all_specs()["amr"]))).start()
    try:
        results = await run_conformance("amr", server.url, wait_seconds=1.5)
    finally:
        server.stop()
    verdict = {r.name: (r.passed, r.detail) for r in results}
    passed, detail = verdict["lean form (optional): batch callbacks answered per event"]
    assert not passed and "was not sent again" in detail, detail


@pytest.mark.asyncio
async def test_kit_reports_a_broken_simulator(broken_url):
    results = await run_conformance("etax", broken_url, wait_seconds=1.5)
    report = format_report("etax", broken_url, results)
    verdict = {r.name: r.passed for r in results}
    assert verdict["jwks published"] and verdict["accepts a valid signed submission"]
    assert not verdict["idempotent replay returns the same reference"]
    assert not verdict["idempotency key reused with another body is refused"]
    assert not verdict["rejects unsigned requests"]
    assert not verdict["result arrives by signed, verifiable callback"]
    assert "FAIL  rejects unsigned requests — AssertionError: unsigned request answered HTTP 202" in report
    assert "refused callbacks: ['invalid_signature']" in report
    assert report.splitlines()[-1].endswith("failed") and " 0 failed" not in report


def test_cli_exit_codes(env, broken_url, capsys):
    assert (
        main(["--system", "seal-security", "--base-url", f"{env['sandbox'].url}/sim/seal-security", "--wait", "10"])
        == 0
    )
    assert "0 failed" in capsys.readouterr().out
    assert main(["--system", "etax", "--base-url", broken_url, "--wait", "1"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  rejects unsigned requests" in out


# -- the registration lookup (企业登记信息查询) ------------------------------------------------------


class UnsignedAnswers(RegistrationSimulator):
    """Answers without a signature."""

    def answer(self, status: int, body: bytes, irt: str | None, media_type: str = "application/json") -> Response:
        return Response(content=body, status_code=status, media_type=media_type)


class AnswersAnotherRequest(RegistrationSimulator):
    """Signs its answers, but names no request of ours in them (``irt``): a replayed answer would pass."""

    def answer(self, status: int, body: bytes, irt: str | None, media_type: str = "application/json") -> Response:
        return super().answer(status, body, "an-earlier-request", media_type)


class SignsInTheOtherAlgorithm(RegistrationSimulator):
    """Agreed on SM2 (and verifies SM2), but signs and publishes ES256."""

    def __init__(self) -> None:
        super().__init__(signature_algorithms="registration=SM2")
        self.signing_key = generate_signing_key("registration-sim-es256")
        self.signer = Signer(self.signing_key)
        self.jwks = jwks_of(self.signing_key)


class AcceptsUnsigned(RegistrationSimulator):
    """Answers a request without a signature as if it were signed."""

    async def admit(self, request: Request, body: bytes) -> str | Response:
        if not request.headers.get(SIGNATURE_HEADER):
            return ""
        return await super().admit(request, body)


class AcceptsEitherAlgorithm(RegistrationSimulator):
    """Signs ES256, but believes a registered client's key of either algorithm."""

    def __init__(self) -> None:
        super().__init__()
        self.algorithms = JWS_ALGORITHMS


@contextlib.contextmanager
def registration_platform(sim: RegistrationSimulator) -> Iterator[str]:
    server = LiveServer(create_registration_app(sim)).start()
    try:
        yield server.url
    finally:
        server.stop()


@pytest.mark.slow  # serves a simulator over HTTP
@pytest.mark.parametrize(("alg", "option"), [("ES256", None), ("SM2", "SM2")])
async def test_kit_passes_the_registration_simulator(alg, option):
    sim = RegistrationSimulator(signature_algorithms=f"registration={alg}")
    with registration_platform(sim) as url:
        results = await run_conformance("registration", url, signature_algorithm=option)
    report = format_report("registration", url, results)
    assert all(r.passed for r in results), report
    assert len(results) == 11 and "11 passed, 0 failed" in report  # key registration and ten checks
    detail = {r.name: r.detail for r in results}
    jws = "SM2SM3" if alg == "SM2" else "ES256"
    other = "ES256" if alg == "SM2" else "SM2SM3"
    assert detail["signs and accepts only the specified algorithm"] == (
        f"answers signed {jws}; {other} refused (HTTP 401, its key registered)"
    )
    assert f"signed {jws}, verified, irt names our request" in detail["looks up a known enterprise"]
    assert "conformance-kit" in sim.clients and sim.lookups >= 5 and sim.refused >= 7


def test_the_kit_looks_up_the_fixtures_unless_told_otherwise():
    from backend.connectors.registration_lookup import conformance
    from tests.cases.support import HAPPY_PERSON, HAPPY_USCC

    assert (conformance.DEFAULT_USCC, conformance.DEFAULT_PERSON) == (HAPPY_USCC, HAPPY_PERSON)
    data = load_fixtures()
    assert conformance.fixture_id_number(HAPPY_PERSON) == next(p.id_number for p in data.people if p.id == "P002")
    assert conformance.UNKNOWN_USCC not in {e.uscc for e in data.enterprises}


@pytest.mark.slow  # serves a simulator over HTTP
@pytest.mark.parametrize(
    ("broken", "option", "failing"),
    [
        (
            UnsignedAnswers,
            None,
            {
                "signs and accepts only the specified algorithm": "answer signed None, the standard says ES256",
                "looks up a known enterprise": "LookupUnavailable: unverifiable answer (missing_signature)",
                "unknown enterprise answers a signed 404": "unverifiable answer (missing_signature)",
                "looks up a known person": "unverifiable answer",
                "person search by ID number": "unverifiable answer",
                "enterprises of a person": "unverifiable answer",
            },
        ),
        (
            AnswersAnotherRequest,
            None,
            {
                "looks up a known enterprise": "LookupUnavailable: answer to another request",
                "unknown enterprise answers a signed 404": "answer to another request",
                "looks up a known person": "answer to another request",
                "person search by ID number": "answer to another request",
                "enterprises of a person": "answer to another request",
            },
        ),
        (
            SignsInTheOtherAlgorithm,
            "SM2",
            {
                "jwks published": "no SM2SM3 key (kty EC, crv SM2) in the JWKS",
                "signs and accepts only the specified algorithm": "answer signed 'ES256', the standard says SM2SM3",
                "looks up a known enterprise": "unverifiable answer",
                "unknown enterprise answers a signed 404": "unverifiable answer",
                "looks up a known person": "unverifiable answer",
                "person search by ID number": "unverifiable answer",
                "enterprises of a person": "unverifiable answer",
            },
        ),
        (
            AcceptsUnsigned,
            None,
            {"rejects unsigned requests": "AssertionError: unsigned request answered HTTP 200"},
        ),
        (
            AcceptsEitherAlgorithm,
            None,
            {"signs and accepts only the specified algorithm": "a request signed SM2SM3 was answered HTTP 200"},
        ),
    ],
    ids=[
        "unsigned answers",
        "answers another request",
        "signs the other algorithm",
        "accepts unsigned",
        "accepts either algorithm",
    ],
)
async def test_kit_reports_a_broken_registration_platform(broken, option, failing):
    with registration_platform(broken()) as url:
        results = await run_conformance("registration", url, signature_algorithm=option)
    failed = {r.name: r.detail for r in results if not r.passed}
    assert set(failed) == set(failing), format_report("registration", url, results)
    for name, detail in failing.items():
        assert detail in failed[name], (name, failed[name])


@pytest.fixture(scope="module")
def registration_urls() -> Iterator[tuple[str, str]]:
    """A conforming registration platform and one accepting unsigned requests, built before any test's
    ``capsys``: building a Litestar app points the root logger at the ``sys.stderr`` of the moment."""
    with registration_platform(RegistrationSimulator()) as good, registration_platform(AcceptsUnsigned()) as lax:
        yield good, lax


def test_cli_exit_codes_for_the_registration_lookup(registration_urls, capsys):
    url, lax = registration_urls
    assert main(["--system", "registration", "--base-url", url]) == 0
    assert "11 passed, 0 failed" in capsys.readouterr().out
    # another fixture enterprise and its person, by option
    other = ["--uscc", "91350104MA02041309", "--person-id", "P004", "--id-number", "350104196804101113"]
    assert main(["--system", "registration", "--base-url", url, *other]) == 0
    assert "福州海峡科技有限公司" in capsys.readouterr().out
    # an enterprise the system does not hold fails the lookup check (and the run)
    assert main(["--system", "registration", "--base-url", url, "--uscc", "91350102MA9999999F"]) == 1
    out = capsys.readouterr().out
    assert "FAIL  looks up a known enterprise — AssertionError: enterprise 91350102MA9999999F answered HTTP 404" in out
    assert main(["--system", "registration", "--base-url", lax]) == 1
    assert "FAIL  rejects unsigned requests" in capsys.readouterr().out
