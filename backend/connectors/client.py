"""The generic HTTP connector: one class, configured per system by its ``SystemSpec``.

Every request is signed (detached JWS in ``X-Signature``, see ``signing``), names its client
(``X-Client-Id``) and carries an ``Idempotency-Key``; every response's signature is checked
against the system's JWKS before its body is believed.
"""

from __future__ import annotations

import asyncio
import functools
import logging
import os
import ssl
import time
import uuid
from collections.abc import Callable, Iterable, Mapping
from typing import Any
from urllib.parse import quote, urlencode

import aiohttp
import msgspec
from yarl import URL

from backend.connectors.base import (
    Ack,
    CallbackBatch,
    CallbackRejected,
    CallbackResult,
    ItemStatus,
    MemoryReplayGuard,
    PermanentError,
    PrecheckResult,
    Reason,
    ReplayGuard,
    Submission,
    TransientError,
)
from backend.connectors.signing import (
    CLIENT_ID_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    SignatureError,
    Signer,
    Verifier,
    key_alg,
    peek_kid,
)
from backend.connectors.spec import SystemSpec
from backend.lib import metrics
from backend.lib.jsonbody import too_deep

#: one line per outbound agency call: system, item, duration, outcome
call_log = logging.getLogger("backend.connectors.calls")

JWKS_PATH = "/.well-known/jwks.json"
_RETRYABLE = {408, 425, 429, 500, 502, 503, 504}
_JWKS_REFRESH_INTERVAL = 5.0


class Credentials(msgspec.Struct, frozen=True):
    """Per-integration credentials: the client id the agency knows us by and our private JWK;
    ``signing_keys`` adds keys of other algorithms (by JWS ``alg``), so one set of credentials
    serves systems that sign ES256 and systems that sign SM2."""

    client_id: str
    signing_key: dict[str, Any]
    signing_keys: dict[str, dict[str, Any]] = {}

    def key_for(self, alg: str) -> dict[str, Any]:
        """Our private JWK for JWS ``alg``; raises ``ValueError`` when we hold none."""
        if key_alg(self.signing_key) == alg:
            return self.signing_key
        try:
            return self.signing_keys[alg]
        except KeyError:
            raise ValueError(f"no {alg} signing key in the credentials of {self.client_id}") from None


class _BatchProbe(msgspec.Struct):
    """Tells a batch callback (``{"events": [...]}``) from a single event without decoding either."""

    events: msgspec.Raw = msgspec.Raw()  # empty: no such field


class _ProblemBody(msgspec.Struct):
    code: str = "unknown"
    detail: str | None = None
    errors: list[dict[str, Any]] = []
    reasons: list[Reason] = []


def _missing_paths(payload: Mapping[str, Any], paths: Iterable[str]) -> list[str]:
    missing = []
    for path in paths:
        node: Any = payload
        for part in path.split("."):
            if not isinstance(node, Mapping) or node.get(part) in (None, ""):
                node = None
                break
            node = node[part]
        if node is None:
            missing.append(path)
    return missing


@functools.cache
def tls_context() -> ssl.SSLContext:
    """One TLS context per process for every agency client: building one (loading the CA
    bundle) costs tens of milliseconds, and each HTTP session would build its own."""
    import certifi

    # SSL_CERT_FILE: a deployment's own CA bundle (a government network's CA, the test's own certificate)
    return ssl.create_default_context(cafile=os.environ.get("SSL_CERT_FILE") or certifi.where())


def client_timeout(timeouts: Mapping[str, float]) -> aiohttp.ClientTimeout:
    """aiohttp's timeouts from a spec's ``connect``/``read``/``write``/``pool`` seconds: waiting
    for a pooled connection and connecting, connecting alone, each read, and the whole exchange."""
    return aiohttp.ClientTimeout(
        total=sum(timeouts.values()),
        connect=timeouts["pool"] + timeouts["connect"],
        sock_connect=timeouts["connect"],
        sock_read=timeouts["read"],
    )


class AgencyHTTP:
    """The HTTP session for agency traffic (connectors, the simulators' callbacks), made on first
    use on the running loop, and made anew on another loop (a session belongs to one loop).

    aiohttp, not httpx: on this traffic httpx's connection pool cost ~1.5 ms of CPU per request
    (it looks at every pooled connection each time), aiohttp ~0.2 ms (docs/benchmarks.md)."""

    def __init__(self, timeout: aiohttp.ClientTimeout, connections: int = 100) -> None:
        self.timeout, self.connections = timeout, connections
        self._session: aiohttp.ClientSession | None = None
        self._loop: asyncio.AbstractEventLoop | None = None

    def session(self) -> aiohttp.ClientSession:
        loop = asyncio.get_running_loop()
        if self._session is None or self._session.closed or self._loop is not loop:
            connector = aiohttp.TCPConnector(limit=self.connections, ssl=tls_context())
            self._session, self._loop = aiohttp.ClientSession(connector=connector, timeout=self.timeout), loop
        return self._session

    async def aclose(self) -> None:
        """Close the session if it is open on the running loop (one left on a finished loop has nothing to close on)."""
        if self._session is not None and not self._session.closed and self._loop is asyncio.get_running_loop():
            await self._session.close()
        self._session = None


def _header(headers: Mapping[str, str], name: str) -> str | None:
    lower = name.lower()
    for key, value in headers.items():
        if key.lower() == lower:
            return value
    return None


class HttpConnector:
    """Talks to one agency system over HTTP following the platform's interface standard (对接标准)."""

    def __init__(
        self,
        spec: SystemSpec,
        base_url: str,
        credentials: Credentials,
        *,
        system_jwks: Mapping[str, Any] | None = None,
        timeout: float | None = None,
    ) -> None:
        self.spec = spec
        self.system = spec.code
        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        #: every signature to and from this system uses its spec's algorithm (no downgrade to another)
        self.alg = spec.jws_alg
        self._signer = Signer(credentials.key_for(self.alg))
        #: where the current private key comes from after a rotation (None: always ``credentials``'s)
        self.signing_key_source: Callable[[], Mapping[str, Any]] | None = None
        self._static_jwks = system_jwks is not None
        self._verifier: Verifier | None = Verifier(system_jwks, (self.alg,)) if system_jwks is not None else None
        self._jwks_fetched_at = 0.0
        self._jwks_lock = asyncio.Lock()
        self._http = AgencyHTTP(
            client_timeout(
                spec.timeouts if timeout is None else dict.fromkeys(("connect", "read", "write", "pool"), timeout)
            )
        )
        #: used by ``verify_callback`` when the caller passes no replay guard (embedded mode, tests)
        self.replay_guard: ReplayGuard = MemoryReplayGuard()

    # -- plumbing ---------------------------------------------------------------------------
    async def aclose(self) -> None:
        """Close the HTTP session (its pooled connections)."""
        await self._http.aclose()

    def _current_signer(self) -> Signer:
        """A signer with the current key (a new one only when a rotation changed the kid)."""
        if self.signing_key_source is not None:
            jwk = self.signing_key_source()
            if jwk.get("kid") != self._signer.kid:
                self._signer = Signer(jwk)
        return self._signer

    async def _load_jwks(self, *, force: bool = False) -> Verifier:
        if self._verifier is not None and (self._static_jwks or not force):
            return self._verifier
        async with self._jwks_lock:
            if self._verifier is not None and not force:
                return self._verifier
            if self._verifier is not None and time.monotonic() - self._jwks_fetched_at < _JWKS_REFRESH_INTERVAL:
                return self._verifier
            try:
                async with self._http.session().get(URL(self.base_url + JWKS_PATH, encoded=True)) as resp:
                    status, body = resp.status, await resp.read()
            except (aiohttp.ClientError, TimeoutError) as exc:
                raise TransientError(f"{self.system}: JWKS unreachable ({exc!r})", code="jwks_unreachable") from exc
            if status != 200:
                raise TransientError(f"{self.system}: JWKS answered {status}", code="jwks_unreachable", status=status)
            try:
                self._verifier = Verifier(msgspec.json.decode(body), (self.alg,))
            except Exception as exc:
                raise TransientError(f"{self.system}: JWKS malformed", code="jwks_malformed") from exc
            self._jwks_fetched_at = time.monotonic()
            return self._verifier

    async def _verifier_for(self, signature: str | None) -> Verifier:
        verifier = await self._load_jwks()
        kid = peek_kid(signature)
        if kid and not verifier.has_kid(kid) and not self._static_jwks:
            verifier = await self._load_jwks(force=True)  # key rotation
        return verifier

    async def _call(
        self,
        method: str,
        path: str,
        body: bytes = b"",
        *,
        idempotency_key: str | None = None,
        operation: str = "",
        item_ref: str | None = None,
    ) -> tuple[int, bytes, Mapping[str, str]]:
        """Send one signed request and return the verified response; logs one line and counts it."""
        started = time.perf_counter()
        outcome, status = "error", None
        try:
            status, content, headers = await self._exchange(method, path, body, idempotency_key)
            outcome = "ok" if status < 300 else ("rejected" if status == 422 else f"http_{status}")
            return status, content, headers
        except TransientError as exc:
            outcome, status = exc.code, exc.status
            metrics.AGENCY_ERRORS.labels(self.system, exc.code).inc()
            raise
        finally:
            seconds = time.perf_counter() - started
            operation = operation or method.lower()
            metrics.AGENCY_CALLS.labels(self.system, operation, outcome).inc()
            metrics.AGENCY_LATENCY.labels(self.system).observe(seconds)
            call_log.info(
                "agency call",
                extra={
                    "system": self.system,
                    "operation": operation,
                    "item": item_ref,
                    "ms": round(seconds * 1000, 1),
                    "outcome": outcome,
                    "status": status,
                },
            )

    async def _exchange(
        self, method: str, path: str, body: bytes, idempotency_key: str | None
    ) -> tuple[int, bytes, Mapping[str, str]]:
        """Send one signed request and return the verified response (status, body, headers)."""
        key = idempotency_key or uuid.uuid4().hex
        signature, jti = self._current_signer().sign(body, htm=method, htu=path, idk=key)
        headers = {
            SIGNATURE_HEADER: signature,
            CLIENT_ID_HEADER: self.credentials.client_id,
            IDEMPOTENCY_HEADER: key,
            "Accept": "application/json",
        }
        if body:
            headers["Content-Type"] = "application/json"
        try:  # encoded=True: the path goes out byte for byte as signed (htu)
            async with self._http.session().request(
                method, URL(self.base_url + path, encoded=True), data=body or None, headers=headers
            ) as resp:
                status, content, resp_headers = resp.status, await resp.read(), resp.headers
        except TimeoutError as exc:  # aiohttp's connect and read timeouts are TimeoutErrors too
            raise TransientError(f"{self.system}: timeout ({type(exc).__name__})", code="timeout") from exc
        except aiohttp.ClientError as exc:
            raise TransientError(f"{self.system}: network error ({exc!r})", code="network_error") from exc
        if status in _RETRYABLE:
            retry_after = resp_headers.get("Retry-After")
            raise TransientError(
                f"{self.system}: HTTP {status}",
                code="rate_limited" if status == 429 else "server_error",
                status=status,
                retry_after=float(retry_after) if retry_after and retry_after.isdigit() else None,
            )
        verifier = await self._verifier_for(resp_headers.get(SIGNATURE_HEADER))
        try:
            header = verifier.verify(resp_headers.get(SIGNATURE_HEADER), content)
        except SignatureError as exc:
            # Retrying with the same idempotency key is safe and returns the same answer.
            raise TransientError(
                f"{self.system}: unverifiable response ({exc.code})", code="bad_response_signature", status=status
            ) from exc
        if header.get("irt") not in (None, jti):
            raise TransientError(
                f"{self.system}: response answers another request", code="bad_response_signature", status=status
            )
        return status, content, resp_headers

    @staticmethod
    def _decode(kind: type, body: bytes, system: str, status: int) -> Any:
        if too_deep(body):  # an agency's answer is outside input too: never a RecursionError in a worker
            raise TransientError(f"{system}: response nested too deeply", code="malformed_response", status=status)
        try:
            return msgspec.json.decode(body, type=kind)
        except msgspec.DecodeError as exc:
            raise TransientError(
                f"{system}: malformed response body ({exc})", code="malformed_response", status=status
            ) from exc

    def _problem(self, status: int, body: bytes) -> _ProblemBody:
        try:
            if too_deep(body):
                raise msgspec.DecodeError("nested too deeply")
            return msgspec.json.decode(body, type=_ProblemBody)
        except msgspec.DecodeError:
            return _ProblemBody(code=f"http_{status}", detail=body[:200].decode("utf-8", "replace"))

    def _ack_from(self, status: int, body: bytes, sub: Submission | None = None) -> Ack:
        if status in (200, 201, 202):
            ack: Ack = self._decode(Ack, body, self.system, status)
            if ack.event is not None:
                self._check_answer_event(ack, sub, status)
            return ack
        problem = self._problem(status, body)
        if status == 422:
            reasons = (
                list(problem.reasons)
                or [
                    Reason(
                        code=str(e.get("code", problem.code)), message=str(e.get("message", "")), field=e.get("field")
                    )
                    for e in problem.errors
                ]
                or [Reason(code=problem.code, message=problem.detail or problem.code)]
            )
            return Ack(status="rejected", reasons=reasons)
        raise PermanentError(
            f"{self.system}: HTTP {status} {problem.code}: {problem.detail or ''}", code=problem.code, status=status
        )

    def _check_answer_event(self, ack: Ack, sub: Submission | None, status: int) -> None:
        """The lean form's 受理 event must be this item's ``accepted`` by this system, under the answer's reference."""
        event = ack.event
        assert event is not None
        problems = [
            what
            for what, wrong in (
                ("outcome", event.outcome != "accepted" or ack.status != "accepted"),
                ("system", event.system != self.system),
                ("item_ref", sub is not None and event.item_ref != sub.item_ref),
                ("reference", bool(ack.reference) and event.reference != ack.reference),
            )
            if wrong
        ]
        if problems:
            raise TransientError(
                f"{self.system}: the answer's event does not fit the submission ({', '.join(problems)})",
                code="malformed_response",
                status=status,
            )

    # -- the protocol -----------------------------------------------------------------------
    def check_submission(self, sub: Submission) -> None:
        """Refuse locally a submission that misses what the spec requires (a platform defect)."""
        if not sub.idempotency_key:
            raise PermanentError(f"{self.system}: submission without idempotency key", code="missing_idempotency_key")
        if sub.item_code not in self.spec.items:
            raise PermanentError(f"{self.system}: item {sub.item_code} is not handled here", code="wrong_system")
        missing = _missing_paths(sub.payload, self.spec.required_paths)
        if missing:
            raise PermanentError(f"{self.system}: payload misses {', '.join(missing)}", code="invalid_submission")

    @staticmethod
    def wire_body(sub: Submission) -> bytes:
        """The JSON body sent for a submission (the idempotency key travels as a header)."""
        return msgspec.json.encode(msgspec.structs.replace(sub, idempotency_key=""))

    async def submit(self, sub: Submission) -> Ack:
        """Send one item; ``Ack(rejected)`` for a business refusal, ``TransientError`` to retry."""
        self.check_submission(sub)
        status, body, _ = await self._call(
            "POST",
            self.spec.submit_path,
            self.wire_body(sub),
            idempotency_key=sub.idempotency_key,
            operation="submit",
            item_ref=sub.item_ref,
        )
        return self._ack_from(status, body, sub)

    async def resubmit(self, reference: str, sub: Submission) -> Ack:
        """Send corrected data (补正) for ``reference``."""
        self.check_submission(sub)
        path = self.spec.correction_path.format(reference=quote(reference, safe=""))
        status, body, _ = await self._call(
            "POST",
            path,
            self.wire_body(sub),
            idempotency_key=sub.idempotency_key,
            operation="resubmit",
            item_ref=sub.item_ref,
        )
        return self._ack_from(status, body, sub)

    async def query(self, *, reference: str | None = None, item_ref: str | None = None) -> ItemStatus:
        """The agency's current view of one item, by its reference or our item_ref."""
        if reference:
            path = self.spec.status_path.format(reference=quote(reference, safe=""))
        elif item_ref:
            path = self.spec.submit_path + "?" + urlencode({"item_ref": item_ref})
        else:
            raise ValueError("reference or item_ref is required")
        status, body, _ = await self._call("GET", path, operation="query", item_ref=item_ref or reference)
        if status == 200:
            return self._decode(ItemStatus, body, self.system, status)
        problem = self._problem(status, body)
        raise PermanentError(f"{self.system}: HTTP {status} {problem.code}", code=problem.code, status=status)

    async def precheck(self, uscc: str, item_code: str, region: str = "") -> PrecheckResult:
        """Blockers the agency sees for this enterprise and item (注销预检)."""
        body = msgspec.json.encode({"uscc": uscc, "item_code": item_code, "region": region})
        status, resp, _ = await self._call("POST", self.spec.precheck_path, body, operation="precheck")
        if status == 200:
            return self._decode(PrecheckResult, resp, self.system, status)
        problem = self._problem(status, resp)
        raise PermanentError(f"{self.system}: HTTP {status} {problem.code}", code=problem.code, status=status)

    async def verify_callback(
        self, headers: Mapping[str, str], body: bytes, seen: ReplayGuard | None = None
    ) -> CallbackResult:
        """Verify a single-event callback (signature, freshness, novelty of ``jti``) and parse it.

        ``seen(jti, expires_at) -> bool`` records a ``jti`` and says whether it was seen before;
        back it with Redis or the DB when several processes receive callbacks.
        """
        events, batch = await self.verify_callbacks(headers, body, seen)
        if batch:
            raise CallbackRejected(f"{self.system}: a batch where one event was expected", code="malformed_callback")
        return events[0]

    async def verify_callbacks(
        self, headers: Mapping[str, str], body: bytes, seen: ReplayGuard | None = None
    ) -> tuple[list[CallbackResult], bool]:
        """Verify a callback, single or batch (lean form), and parse it: (its events, whether a batch).

        One signature covers the whole body. A single event naming another system is refused here;
        a batch's events are returned as sent, for the caller to settle (and refuse) one by one.
        """
        seen = seen or self.replay_guard
        signature = _header(headers, SIGNATURE_HEADER)
        try:
            verifier = await self._verifier_for(signature)
        except TransientError as exc:
            raise CallbackRejected(f"{self.system}: cannot load JWKS ({exc})", code="jwks_unavailable") from exc
        try:
            header = verifier.verify(signature, body)
        except SignatureError as exc:
            raise CallbackRejected(f"{self.system}: {exc}", code=exc.code) from exc
        if seen(str(header["jti"]), float(header["exp"])):
            raise CallbackRejected(f"{self.system}: callback replayed (jti {header['jti']})", code="replayed")
        if too_deep(body):
            raise CallbackRejected(f"{self.system}: callback nested too deeply", code="malformed_callback")
        try:
            if msgspec.json.decode(body, type=_BatchProbe).events:
                return list(msgspec.json.decode(body, type=CallbackBatch).events), True
            result = msgspec.json.decode(body, type=CallbackResult)
        except msgspec.DecodeError as exc:
            raise CallbackRejected(f"{self.system}: malformed callback ({exc})", code="malformed_callback") from exc
        if result.system != self.system:
            raise CallbackRejected(f"{self.system}: callback names system {result.system}", code="wrong_system")
        return [result], False
