"""The conformance kit passes our simulators and reports a broken implementation clearly."""

from __future__ import annotations

from typing import Any

import httpx
import pytest
from connectors_support import LiveServer
from litestar import Request, Response

from backend.connectors.conformance import format_report, main, run_conformance
from backend.connectors.registry import all_specs
from backend.connectors.signing import Signer, Verifier, generate_signing_key
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
