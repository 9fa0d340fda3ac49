"""Interface conformance kit (对接标准符合性测试): check any system against our interface standard.

    python -m backend.connectors.conformance --system etax --base-url http://127.0.0.1:8900/sim/etax

It signs requests with its own key (``--key`` a private JWK file, or an ephemeral key it
registers at the test entry's ``/admin/clients/{client_id}`` when ``--register`` is on) of the
system's signature algorithm (its spec's ``x-signature-algorithm``: ES256 or SM2 with SM3;
``--signature-algorithm`` for a system deployed with the other), checks that the system signs
with that algorithm and refuses a request signed with the other one (no downgrade),
starts a callback receiver on 127.0.0.1, runs every contract check, prints one PASS/FAIL
line per check and exits non-zero on any failure. The checks use the fixture enterprises of
the test environment: an agency's test system must hold them (``GET /sandbox/enterprises``).

The systems that send no callbacks have their own checks under the same key handling,
algorithm checks and report: the push systems (好差评, SMS: ``push_conformance.py``) and the
registration lookup (企业登记信息查询, ``--system registration``: ``registration_lookup/conformance.py``),
which looks up a fixture enterprise and person (``--uscc``, ``--person-id``, ``--id-number``)::

    python -m backend.connectors.conformance --system registration --base-url http://127.0.0.1:8900/sim/registration
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import hashlib
import json
import socket
import sys
import threading
import time
import uuid
from collections.abc import Callable, Coroutine, Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import httpx
import msgspec

from backend.connectors.base import CallbackRejected, CallbackResult, MemoryReplayGuard, PermanentError
from backend.connectors.client import JWKS_PATH, Credentials, HttpConnector
from backend.connectors.registration_lookup import SIGNATURE_ALGORITHM as REGISTRATION_ALGORITHM
from backend.connectors.registration_lookup import SYSTEM as REGISTRATION
from backend.connectors.signing import (
    CLIENT_ID_HEADER,
    IDEMPOTENCY_HEADER,
    JWS_ALGORITHMS,
    SIGNATURE_ALGORITHMS,
    SIGNATURE_HEADER,
    Signer,
    generate_signing_key,
    jwks_of,
    key_alg,
    peek_header,
)
from backend.fixtures import load_fixtures

if TYPE_CHECKING:
    from backend.connectors.push_conformance import PushConformanceRun
    from backend.connectors.registration_lookup.conformance import RegistrationConformanceRun


@dataclass
class CheckResult:
    """One contract check's verdict."""

    name: str
    passed: bool
    detail: str = ""


#: A named check: its coroutine returns the report's detail or raises (the failure's detail).
Check = tuple[str, Callable[[], Coroutine[Any, Any, str]]]
#: ``send(method, path, body, headers)``: one hand-made request to the system (see ``raw_requests``).
Send = Callable[[str, str, bytes, dict[str, str]], Coroutine[Any, Any, httpx.Response]]


async def run_checks(checks: Iterable[Check]) -> list[CheckResult]:
    """Run every check in order; a failing check never stops the others."""
    results = []
    for name, fn in checks:
        try:
            results.append(CheckResult(name, True, await fn()))
        except Exception as exc:  # noqa: BLE001 - every failure is reported, none stops the run
            results.append(CheckResult(name, False, f"{type(exc).__name__}: {exc}"))
    return results


def raw_requests(base_url: str) -> Send:
    """Requests the kit makes by hand (unsigned, forged, expired, another algorithm ...) to ``base_url``."""
    base = base_url.rstrip("/")

    async def send(method: str, path: str, body: bytes, headers: dict[str, str]) -> httpx.Response:
        typed = {"Content-Type": "application/json"} if body else {}
        async with httpx.AsyncClient(timeout=10) as c:
            return await c.request(method, base + path, content=body or None, headers={**typed, **headers})

    return send


def standard_algorithm(alg: str) -> str:
    """The standard's name (``ES256`` | ``SM2``) of JWS ``alg`` (``ES256`` | ``SM2SM3``): ``jws_alg`` reversed."""
    return next(name for name, jws_name in SIGNATURE_ALGORITHMS.items() if jws_name == alg)


def signature_algorithm_of(jwk: dict[str, Any]) -> str:
    """The standard's name (``ES256`` | ``SM2``) of the algorithm ``jwk`` signs with."""
    return standard_algorithm(key_alg(jwk))


def signed_headers(
    jwk: dict[str, Any],
    client_id: str,
    method: str,
    path: str,
    body: bytes,
    *,
    now: float | None = None,
    htm: str | None = None,
    htu: str | None = None,
) -> dict[str, str]:
    """Headers of a request signed with ``jwk`` for ``method`` and ``path`` (``htm``/``htu`` to bind it
    elsewhere, ``now`` to date it), under a fresh idempotency key."""
    key = uuid.uuid4().hex
    sig, _ = Signer(jwk).sign(body, htm=htm or method, htu=htu or path, idk=key, now=now)
    return {IDEMPOTENCY_HEADER: key, CLIENT_ID_HEADER: client_id, SIGNATURE_HEADER: sig}


async def published_jwks(base_url: str, alg: str) -> str:
    """The system publishes its public keys, with a key of JWS ``alg`` and no private parts."""
    async with httpx.AsyncClient(timeout=10) as c:
        r = await c.get(base_url.rstrip("/") + JWKS_PATH)
    assert r.status_code == 200, f"HTTP {r.status_code}"
    keys = r.json().get("keys") or []
    assert keys, "JWKS has no keys"
    assert not any("d" in k for k in keys), "JWKS exposes private key material"
    assert all(k.get("kid") for k in keys), "every key needs a kid"
    return f"{len(keys)} key(s); " + jwks_algorithm_detail(keys, alg)


async def refuses_unsigned(send: Send, method: str, path: str, body: bytes, client_id: str) -> str:
    """A request without a signature gets 401."""
    r = await send(method, path, body, {IDEMPOTENCY_HEADER: uuid.uuid4().hex, CLIENT_ID_HEADER: client_id})
    assert r.status_code == 401, f"unsigned request answered HTTP {r.status_code}"
    return "HTTP 401"


async def refuses_forged_and_expired(send: Send, method: str, path: str, body: bytes, credentials: Credentials) -> str:
    """A request signed by a stranger's key under our ``kid``, and one signed with our key an hour ago, get 401."""
    ours = credentials.signing_key
    stranger = generate_signing_key(str(ours.get("kid", "x")), signature_algorithm_of(ours))
    r = await send(method, path, body, signed_headers(stranger, credentials.client_id, method, path, body))
    assert r.status_code == 401, f"forged signature answered HTTP {r.status_code}"
    expired = signed_headers(ours, credentials.client_id, method, path, body, now=time.time() - 3600)
    r = await send(method, path, body, expired)
    assert r.status_code == 401, f"expired signature answered HTTP {r.status_code}"
    return "forged and expired signatures: HTTP 401"


class _CallbackSink:
    """A tiny real-HTTP receiver that keeps raw callbacks for the kit to verify."""

    def __init__(self, host: str, port: int) -> None:
        from litestar import Litestar, Request, post

        self.messages: list[tuple[dict[str, str], bytes]] = []
        self._lock = threading.Lock()

        self.batches = 0
        #: the event answered ``retry`` in the first batch (the system must send it again)
        self.retried: str | None = None

        @post("/callbacks", status_code=200)
        async def receive(request: Request[Any, Any, Any]) -> dict[str, Any]:
            body = await request.body()
            with self._lock:
                self.messages.append((dict(request.headers), body))
                try:
                    doc = json.loads(body)
                except ValueError:
                    doc = None
                if not (isinstance(doc, dict) and isinstance(doc.get("events"), list)):
                    return {"ok": True}
                # Lean form: answer per event; the first batch's first event once with ``retry``.
                self.batches += 1
                results = []
                for event in doc["events"]:
                    event_id = str(event.get("event_id")) if isinstance(event, dict) else ""
                    status = "applied"
                    if self.retried is None:
                        self.retried, status = event_id, "retry"
                    results.append({"event_id": event_id, "status": status})
                return {"results": results}

        import uvicorn

        if port == 0:
            with socket.socket() as s:
                s.bind((host, 0))
                port = int(s.getsockname()[1])
        self.url = f"http://{host}:{port}/callbacks"
        self._server = uvicorn.Server(
            uvicorn.Config(
                Litestar([receive], openapi_config=None, logging_config=None), host=host, port=port, log_level="warning"
            )
        )
        self._thread = threading.Thread(target=self._server.run, daemon=True)

    def start(self) -> None:
        self._thread.start()
        deadline = time.monotonic() + 10
        while not self._server.started:
            if time.monotonic() > deadline:
                raise RuntimeError("callback receiver did not start")
            time.sleep(0.01)

    def stop(self) -> None:
        self._server.should_exit = True
        self._thread.join(timeout=5)

    def snapshot(self) -> list[tuple[dict[str, str], bytes]]:
        with self._lock:
            return list(self.messages)


class ConformanceRun:
    """Runs the contract checks for one system at one base URL."""

    def __init__(
        self,
        system: str,
        base_url: str,
        credentials: Credentials,
        callback_url: str,
        sink: _CallbackSink | None,
        *,
        wait_seconds: float = 20.0,
        other_key: dict[str, Any] | None = None,
    ) -> None:
        from backend.connectors.registry import build_connector

        self.system = system
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        self.callback_url = callback_url
        self.sink = sink
        self.wait_seconds = wait_seconds
        #: a key of the algorithm the system must *not* accept (registered beside ours when we register)
        self.other_key = other_key
        alg = signature_algorithm_of(credentials.signing_key)
        self.conn: HttpConnector = build_connector(
            system, self.base_url, credentials, signature_algorithms=f"{system}={alg}"
        )
        self.spec = self.conn.spec
        self.guard = MemoryReplayGuard()
        self.verified: list[CallbackResult] = []
        self.callback_failures: list[str] = []
        self._checked = 0
        self.state: dict[str, Any] = {}
        self.send = raw_requests(self.base_url)

    # -- helpers ----------------------------------------------------------------------------
    def _submissions(self) -> tuple[Any, Any]:
        from backend.connectors.samples import pick_enterprises, submission_for

        data = load_fixtures()
        ok, blocked = pick_enterprises(self.spec, data)
        run = uuid.uuid4().hex[:8].upper()
        good = submission_for(
            self.spec, ok, data, self.callback_url, case_number=f"CONF-{run}", item_ref=f"CONF-{run}/OK"
        )
        bad = (
            submission_for(
                self.spec, blocked, data, self.callback_url, case_number=f"CONF-{run}", item_ref=f"CONF-{run}/BLOCKED"
            )
            if blocked
            else None
        )
        return good, bad

    async def _verify_new_callbacks(self) -> None:
        if self.sink is None:
            return
        messages = self.sink.snapshot()
        for headers, body in messages[self._checked :]:
            try:
                events, _ = await self.conn.verify_callbacks(headers, body, self.guard)
                self.verified.extend(events)
            except CallbackRejected as exc:
                self.callback_failures.append(exc.code)
        self._checked = len(messages)

    async def _wait_for(self, item_ref: str, predicate: Callable[[CallbackResult], bool]) -> CallbackResult | None:
        deadline = time.monotonic() + self.wait_seconds
        while time.monotonic() < deadline:
            await self._verify_new_callbacks()
            for r in self.verified:
                if r.item_ref == item_ref and predicate(r):
                    return r
            await asyncio.sleep(0.05)
        return None

    # -- the checks ---------------------------------------------------------------------------
    async def check_jwks(self) -> str:
        return await published_jwks(self.base_url, self.conn.alg)

    async def check_signature_algorithm(self) -> str:
        body = msgspec.json.encode({"uscc": "", "item_code": next(iter(self.spec.items)), "region": ""})
        return await algorithm_checks(
            self.send, self.spec.precheck_path, body, self.credentials, self.conn.alg, self.other_key
        )

    async def check_accepts_valid_submission(self) -> str:
        good, _ = self.state["subs"]
        ack = await self.conn.submit(good)
        assert ack.status == "accepted", f"status {ack.status}: {ack.reasons}"
        assert ack.reference, "no reference returned"
        self.state["reference"] = ack.reference
        self.state["answer_event"] = ack.event
        if ack.event is not None:  # the connector checked it names this item, system and reference
            self.verified.append(ack.event)
        return f"reference {ack.reference} (response signature verified)"

    async def check_accepted_in_answer(self) -> str:
        event = self.state.get("answer_event")
        if event is None:
            return "classic form: 受理 comes as an accepted callback (checked with the callbacks)"
        assert event.event_id, "the answer's event has no event_id"
        assert event.sequence >= 1, f"the answer's event has sequence {event.sequence}"
        good, _ = self.state["subs"]
        replay = await self.conn.submit(good)
        assert replay.event is not None and replay.event.event_id == event.event_id, (
            "an idempotent replay must repeat the answer's event (same event_id)"
        )
        return f"lean form: accepted in the answer (event {event.event_id}, seq {event.sequence}); a replay repeats it"

    async def check_idempotent_replay(self) -> str:
        good, _ = self.state["subs"]
        ack = await self.conn.submit(good)
        assert ack.reference == self.state.get("reference"), (
            f"replay returned {ack.reference}, first {self.state.get('reference')}"
        )
        assert not ack.duplicate, "an idempotent replay must not be reported as a duplicate send"
        return "same Idempotency-Key → same reference"

    async def check_key_reuse_refused(self) -> str:
        good, _ = self.state["subs"]
        other = msgspec.structs.replace(
            good, item_ref=good.item_ref + "-other", payload={**good.payload, "enterprise_name": "冲突测试"}
        )
        try:
            ack = await self.conn.submit(other)
        except PermanentError as exc:
            assert exc.status in (409, 422), f"HTTP {exc.status}"
            return f"HTTP {exc.status} {exc.code}"
        raise AssertionError(f"the same key with another body was answered {ack.status} {ack.reference}")

    def _other_submission(self, suffix: str) -> bytes:
        good, _ = self.state["subs"]
        sub = msgspec.structs.replace(good, item_ref=f"{good.item_ref}-{suffix}", idempotency_key="")
        return HttpConnector.wire_body(sub)

    async def check_rejects_unsigned(self) -> str:
        body = self._other_submission("unsigned")
        return await refuses_unsigned(self.send, "POST", self.spec.submit_path, body, self.credentials.client_id)

    async def check_rejects_forged(self) -> str:
        body = self._other_submission("forged")
        return await refuses_forged_and_expired(self.send, "POST", self.spec.submit_path, body, self.credentials)

    async def check_signed_callbacks(self) -> str:
        good, _ = self.state["subs"]
        final = await self._wait_for(good.item_ref, lambda r: r.outcome == "completed")
        await self._verify_new_callbacks()
        assert final is not None, f"no verifiable 'completed' callback within {self.wait_seconds:.0f}s" + (
            f"; refused callbacks: {sorted(set(self.callback_failures))}" if self.callback_failures else ""
        )
        events = sorted((r for r in self.verified if r.item_ref == good.item_ref), key=lambda r: r.sequence)
        assert events[0].outcome == "accepted", f"first event is {events[0].outcome}, expected accepted"
        if self.state.get("answer_event") is not None:
            assert [r.outcome for r in events].count("accepted") == 1, "accepted both in the answer and by callback"
        assert final.reference == self.state.get("reference"), "callback reference differs from the acknowledgement"
        assert final.documents, "a completed item must carry its result documents"
        for doc in final.documents:
            if doc.content_base64:
                assert hashlib.sha256(base64.b64decode(doc.content_base64)).hexdigest() == doc.sha256, (
                    f"sha256 mismatch for {doc.name}"
                )
        return f"{len(events)} signed event(s) verified against the JWKS; documents hash-checked"

    async def check_batch_callbacks(self) -> str:
        if self.sink is None:
            return "no callback receiver (skipped)"
        if not self.sink.batches:
            return "classic form: one signed event per callback"
        retried = self.sink.retried
        deadline = time.monotonic() + self.wait_seconds
        while time.monotonic() < deadline:
            await self._verify_new_callbacks()
            if sum(r.event_id == retried for r in self.verified) >= 2:
                break
            await asyncio.sleep(0.05)
        assert not self.callback_failures, f"refused callbacks: {sorted(set(self.callback_failures))}"
        assert all(r.system == self.system for r in self.verified), "a batch carries another system's event"
        assert sum(r.event_id == retried for r in self.verified) >= 2, (
            f"the event answered 'retry' ({retried}) was not sent again within {self.wait_seconds:.0f}s"
        )
        return f"lean form: {self.sink.batches} signed batch(es) verified; the event answered retry was sent again"

    async def check_business_rejection(self) -> str:
        _, bad = self.state["subs"]
        if bad is None:
            return "no blocking fixture for this system (skipped)"
        ack = await self.conn.submit(bad)
        if ack.status == "rejected":
            reasons = ack.reasons
        else:
            final = await self._wait_for(bad.item_ref, lambda r: r.outcome == "rejected")
            assert final is not None, "blocked enterprise did not get a 'rejected' result"
            reasons = final.reasons
        assert reasons and all(r.code and r.message for r in reasons), (
            "a rejection must give coded reasons with messages"
        )
        return "reasons: " + ", ".join(r.code for r in reasons)

    async def check_status_query(self) -> str:
        good, _ = self.state["subs"]
        status = await self.conn.query(reference=self.state["reference"])
        assert status.item_ref == good.item_ref, f"item_ref {status.item_ref}"
        assert status.status == "completed", f"status {status.status}, expected completed"
        by_ref = await self.conn.query(item_ref=good.item_ref)
        assert by_ref.reference == self.state["reference"], "query by item_ref returned another reference"
        try:
            await self.conn.query(reference="NO-SUCH-REFERENCE")
        except PermanentError as exc:
            assert exc.status == 404, f"unknown reference answered HTTP {exc.status}"
        else:
            raise AssertionError("unknown reference did not answer 404")
        return "by reference, by item_ref, unknown → 404"

    async def check_precheck(self) -> str:
        _, bad = self.state["subs"]
        if bad is None:
            return "no blocking fixture for this system (skipped)"
        result = await self.conn.precheck(bad.uscc, bad.item_code, bad.region)
        assert result.uscc == bad.uscc, "pre-check answered for another enterprise"
        return f"{len(result.blockers)} blocker(s)"

    async def run(self) -> list[CheckResult]:
        """Run every check in order; a failing check never stops the others."""
        self.state["subs"] = self._submissions()
        checks: list[Check] = [
            ("jwks published", self.check_jwks),
            ("signs and accepts only the specified algorithm", self.check_signature_algorithm),
            ("accepts a valid signed submission", self.check_accepts_valid_submission),
            ("idempotent replay returns the same reference", self.check_idempotent_replay),
            ("idempotency key reused with another body is refused", self.check_key_reuse_refused),
            ("rejects unsigned requests", self.check_rejects_unsigned),
            ("rejects forged and expired signatures", self.check_rejects_forged),
            ("lean form (optional): accepted in the answer", self.check_accepted_in_answer),
            ("result arrives by signed, verifiable callback", self.check_signed_callbacks),
            ("lean form (optional): batch callbacks answered per event", self.check_batch_callbacks),
            ("business rejection carries reasons", self.check_business_rejection),
            ("status query", self.check_status_query),
            ("pre-check (注销预检)", self.check_precheck),
        ]
        try:
            return await run_checks(checks)
        finally:
            await self.conn.aclose()


def format_report(system: str, base_url: str, results: list[CheckResult]) -> str:
    """Human-readable report: one PASS/FAIL line per check and a summary."""
    lines = [f"对接标准符合性测试 / conformance: system={system} base_url={base_url}"]
    for r in results:
        lines.append(f"{'PASS' if r.passed else 'FAIL'}  {r.name}" + (f" — {r.detail}" if r.detail else ""))
    failed = sum(not r.passed for r in results)
    lines.append(f"{len(results) - failed} passed, {failed} failed")
    return "\n".join(lines)


async def run_conformance(
    system: str,
    base_url: str,
    *,
    client_id: str = "conformance-kit",
    signing_key: dict[str, Any] | None = None,
    register: bool = True,
    callback_host: str = "127.0.0.1",
    callback_port: int = 0,
    public_callback_url: str | None = None,
    wait_seconds: float = 20.0,
    signature_algorithm: str | None = None,
    uscc: str | None = None,
    person_id: str | None = None,
    id_number: str | None = None,
) -> list[CheckResult]:
    """Run the kit programmatically (tests, CI); see the module docstring. ``signature_algorithm``
    (ES256 | SM2): the system's, when it differs from its spec's. ``uscc``, ``person_id`` and
    ``id_number``: whom the registration lookup's checks look up (default: the fixtures')."""
    from backend.connectors.push import all_push_specs

    algorithm = signature_algorithm or specified_algorithms()[system]
    other = "ES256" if algorithm == "SM2" else "SM2"
    key = signing_key or generate_signing_key(f"{client_id}-{uuid.uuid4().hex[:6]}", algorithm)
    other_key = generate_signing_key(f"{client_id}-other-{uuid.uuid4().hex[:6]}", other) if register else None
    results: list[CheckResult] = []
    if register:
        try:
            async with httpx.AsyncClient(timeout=10) as c:
                # Both kinds are registered: a conforming system still refuses the one it is not specified for.
                jwks = jwks_of(key, other_key) if other_key else jwks_of(key)
                r = await c.put(f"{base_url.rstrip('/')}/admin/clients/{client_id}", json=jwks)
            results.append(
                CheckResult("register kit key at the test entry", r.status_code == 200, f"HTTP {r.status_code}")
            )
        except httpx.HTTPError as exc:
            results.append(CheckResult("register kit key at the test entry", False, repr(exc)))
    suite: PushConformanceRun | RegistrationConformanceRun | None = None
    if system in all_push_specs():  # one-way systems (好差评, SMS): no callbacks to receive
        from backend.connectors.push_conformance import PushConformanceRun

        suite = PushConformanceRun(system, base_url, Credentials(client_id, key), other_key=other_key)
    elif system == REGISTRATION:  # lookups answered in the response: no callbacks either
        from backend.connectors.registration_lookup.conformance import RegistrationConformanceRun

        suite = RegistrationConformanceRun(
            base_url,
            Credentials(client_id, key),
            other_key=other_key,
            uscc=uscc,
            person_id=person_id,
            id_number=id_number,
        )
    if suite is not None:
        try:
            return results + await run_checks(suite.checks())
        finally:
            await suite.aclose()
    sink = _CallbackSink(callback_host, callback_port)
    sink.start()
    try:
        run = ConformanceRun(
            system,
            base_url,
            Credentials(client_id, key),
            public_callback_url or sink.url,
            sink,
            wait_seconds=wait_seconds,
            other_key=other_key,
        )
        results += await run.run()
    finally:
        sink.stop()
    return results


def specified_algorithms() -> dict[str, str]:
    """Every system the kit checks (agency, push, registration lookup) → its spec's signature algorithm."""
    from backend.connectors.push import all_push_specs
    from backend.connectors.registry import all_specs

    specs: dict[str, Any] = {**all_specs(), **all_push_specs()}
    return {**{code: spec.signature_algorithm for code, spec in specs.items()}, REGISTRATION: REGISTRATION_ALGORITHM}


def jwks_algorithm_detail(keys: list[dict[str, Any]], alg: str) -> str:
    """Assert a published JWKS holds a key of JWS ``alg`` in the standard's form; a line for the report."""
    curve = "SM2" if alg == "SM2SM3" else "P-256"
    matching = [k for k in keys if k.get("kty") == "EC" and k.get("crv") == curve and k.get("alg") in (None, alg)]
    assert matching, f"no {alg} key (kty EC, crv {curve}) in the JWKS"
    return f"{len(matching)} {alg} key(s) (crv {curve})"


async def algorithm_checks(
    send: Send,
    path: str,
    body: bytes,
    credentials: Credentials,
    alg: str,
    other_key: dict[str, Any] | None,
) -> str:
    """The system answers a ``POST path`` with ``alg`` signatures and refuses one signed with another algorithm."""
    r = await send(
        "POST", path, body, signed_headers(credentials.signing_key, credentials.client_id, "POST", path, body)
    )
    answered = (peek_header(r.headers.get(SIGNATURE_HEADER)) or {}).get("alg")
    assert answered == alg, f"answer signed {answered!r}, the standard says {alg}"
    detail = f"answers signed {alg}"
    for other_alg in (a for a in JWS_ALGORITHMS if a != alg):
        stranger = other_key or generate_signing_key(None, standard_algorithm(other_alg))
        r = await send("POST", path, body, signed_headers(stranger, credentials.client_id, "POST", path, body))
        assert r.status_code == 401, f"a request signed {other_alg} was answered HTTP {r.status_code}"
        detail += f"; {other_alg} refused (HTTP 401{', its key registered' if other_key else ''})"
    return detail


def main(argv: list[str] | None = None) -> int:
    """CLI entry point; exit status 1 when any check fails."""
    from backend.connectors.registration_lookup.conformance import DEFAULT_PERSON, DEFAULT_USCC

    parser = argparse.ArgumentParser(
        prog="python -m backend.connectors.conformance", description="对接标准符合性测试 / interface conformance kit"
    )
    parser.add_argument("--system", required=True, choices=sorted(specified_algorithms()))
    parser.add_argument("--base-url", required=True, help="the system's base URL (where /.well-known/jwks.json lives)")
    parser.add_argument("--client-id", default="conformance-kit")
    parser.add_argument(
        "--key", type=Path, help="private JWK (JSON) registered with the system; default: an ephemeral key"
    )
    parser.add_argument(
        "--no-register", action="store_true", help="do not register the key at /admin/clients/{client_id}"
    )
    parser.add_argument("--callback-host", default="127.0.0.1")
    parser.add_argument("--callback-port", type=int, default=0)
    parser.add_argument("--public-callback-url", help="callback URL as the system reaches it (behind NAT or a proxy)")
    parser.add_argument("--wait", type=float, default=20.0, help="seconds to wait for each callback")
    parser.add_argument(
        "--signature-algorithm",
        choices=["ES256", "SM2"],
        help="the system's signature algorithm when it differs from its spec's x-signature-algorithm",
    )
    lookup = parser.add_argument_group("registration lookup (--system registration)")
    lookup.add_argument("--uscc", help=f"a USCC the system holds (default: the fixtures' {DEFAULT_USCC})")
    lookup.add_argument("--person-id", help=f"a person on that enterprise's record (default: {DEFAULT_PERSON})")
    lookup.add_argument("--id-number", help="that person's ID number (default: the fixtures' for --person-id)")
    args = parser.parse_args(argv)
    import logging

    logging.getLogger("httpx").setLevel(logging.WARNING)
    key = json.loads(args.key.read_text()) if args.key else None
    if key is None and args.no_register:
        print("--no-register needs --key (a key the system already trusts)", file=sys.stderr)
        return 2
    results = asyncio.run(
        run_conformance(
            args.system,
            args.base_url,
            client_id=args.client_id,
            signing_key=key,
            register=not args.no_register,
            callback_host=args.callback_host,
            callback_port=args.callback_port,
            public_callback_url=args.public_callback_url,
            wait_seconds=args.wait,
            signature_algorithm=args.signature_algorithm,
            uscc=args.uscc,
            person_id=args.person_id,
            id_number=args.id_number,
        )
    )
    print(format_report(args.system, args.base_url, results))
    return 0 if all(r.passed for r in results) else 1


if __name__ == "__main__":
    sys.exit(main())
