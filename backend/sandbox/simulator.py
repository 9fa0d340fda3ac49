"""A simulated agency business system (Litestar app) for the test environment (测试环境).

It behaves like a real system implementing our interface standard (对接标准):

- accepts asynchronously (``202`` + reference) after verifying the request signature;
  by default in the interface standard's lean form: 受理 (``accepted``) is reported in that
  answer (``Ack.event``) and callbacks travel in batches (``CallbackBatch``) per callback URL;
  ``lean=False`` (or ``PUT /admin/protocol``) selects the classic form, one callback per event;
- honours ``Idempotency-Key`` (same key → same answer, no second effect) and counts a second
  send of the same ``item_ref`` under another key as a *duplicate* (stats);
- later delivers signed callbacks (accepted, then completed / rejected / correction requested),
  retrying with backoff while the receiver fails; JWKS at ``/.well-known/jwks.json``;
- judges fixture enterprises with the checks its spec names (``backend.connectors.rules``);
- a fault-injection admin API (latency, error rate, outages, duplicate / late / out-of-order
  callbacks, malformed bodies), everything off by default; ``/admin/stats`` for tests.

State lives in memory. The engine owns background tasks: call ``aclose()`` (the app does it
on shutdown; embedded mounts must call ``close_simulators``).
"""

from __future__ import annotations

import asyncio
import base64
import contextlib
import hashlib
import itertools
import logging
import random
import time
import uuid
from collections.abc import Mapping
from datetime import UTC, datetime
from typing import Annotated, Any, Literal
from urllib.parse import parse_qs, unquote

import aiohttp
import msgspec
from litestar import Litestar, Request, Response, get, patch, post, put
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody

from backend.connectors.base import (
    Ack,
    BatchAnswer,
    CallbackBatch,
    CallbackResult,
    Correction,
    ItemStatus,
    Outcome,
    PrecheckResult,
    Reason,
    ResultDocument,
    Submission,
)
from backend.connectors.client import JWKS_PATH, AgencyHTTP
from backend.connectors.registry import all_specs
from backend.connectors.rules import SimContext, run_checks
from backend.connectors.signing import (
    CLIENT_ID_HEADER,
    IDEMPOTENCY_HEADER,
    SIGNATURE_HEADER,
    SignatureError,
    Signer,
    Verifier,
    generate_signing_key,
    jwks_of,
    key_alg,
)
from backend.connectors.spec import SystemSpec, with_signature_algorithm
from backend.fixtures import Dataset, Enterprise, load_fixtures
from backend.lib.jsonbody import too_deep
from backend.lib.problems import EXCEPTION_HANDLERS, PROBLEM_MEDIA_TYPE, FieldError, Problem, ProblemError
from backend.lib.validators import validate_uscc

log = logging.getLogger("backend.sandbox.simulator")

# Callbacks in flight per simulated system, as a real agency system limits its outbound calls.
# They queue on a semaphore of this size, not in the HTTP client's pool, so the time spent
# queueing in a burst never counts against a delivery's timeout (and never turns into retries).
CALLBACK_CONNECTIONS = 8
CALLBACK_TIMEOUT = aiohttp.ClientTimeout(total=5.0, sock_connect=2.0)
# Lean form: how long the first event waits for others to share its batch (while every delivery
# slot is busy, events gather anyway, up to BATCH_EVENTS per callback).
BATCH_LINGER_SECONDS = 0.005
# Events per batch the simulators send (the standard allows MAX_BATCH_EVENTS): the platform applies
# each event in its own transaction, so a full batch under load outlasted CALLBACK_TIMEOUT (the
# 1,000-case benchmark timed out and re-sent batches the platform had applied).
BATCH_EVENTS = 20


class ProtocolForm(msgspec.Struct, forbid_unknown_fields=True):
    """Which optional forms of the interface standard the simulator uses (both lean by default)."""

    #: report 受理 in the submission's answer (``Ack.event``), not as an ``accepted`` callback
    sync_accept: bool = True
    #: deliver callbacks in signed batches (``CallbackBatch``), not one event per request
    batch_callbacks: bool = True


class Outage(msgspec.Struct, frozen=True):
    """A window (epoch seconds) during which the system answers 503."""

    start: float
    end: float


class FaultConfig(msgspec.Struct, omit_defaults=True, forbid_unknown_fields=True):
    """Fault injection settings; all off by default."""

    latency_ms: Annotated[int, msgspec.Meta(ge=0, le=120_000)] = 0
    error_rate: Annotated[float, msgspec.Meta(ge=0.0, le=1.0)] = 0.0
    error_status: Literal[429, 500, 502, 503, 504] = 503
    fail_next: Annotated[int, msgspec.Meta(ge=0)] = 0
    down: bool = False
    outages: list[Outage] = []
    duplicate_callbacks: bool = False
    late_callback_ms: Annotated[int, msgspec.Meta(ge=0, le=600_000)] = 0
    out_of_order_callbacks: bool = False
    malformed_responses: bool = False
    malformed_callbacks: bool = False
    #: push systems (好差评, SMS) refuse every message with 422 and a coded reason (a business refusal)
    reject_messages: bool = False
    #: overrides the engine's processing time per item (milliseconds) while set
    processing_ms: Annotated[int, msgspec.Meta(ge=0, le=3_600_000)] | None = None


class Stats(msgspec.Struct):
    """Counters tests assert on (e.g. "no item sent twice": ``duplicates == 0``)."""

    submissions: int = 0
    duplicates: int = 0
    idempotent_replays: int = 0
    corrections: int = 0
    rejected_requests: int = 0
    faults_injected: int = 0
    callbacks_delivered: int = 0
    callback_attempts_failed: int = 0
    callbacks_abandoned: int = 0
    #: lean form: batch callbacks answered 2xx (``callbacks_delivered`` counts their events)
    batches_delivered: int = 0
    #: lean form: events the receiver answered ``retry`` in a batch (sent again)
    events_retried: int = 0
    completed: int = 0
    rejected: int = 0
    correction_requested: int = 0
    duplicate_item_refs: list[str] = []
    #: push systems: messages of a chain received after a later one of the same chain
    out_of_order: int = 0


class _Item:
    """One submission as the simulated agency holds it."""

    def __init__(self, reference: str, sub: Submission, client_id: str) -> None:
        self.reference = reference
        self.sub = sub
        self.client_id = client_id
        self.status = "received"
        self.sequence = 0
        self.message = ""
        self.reasons: list[Reason] = []
        self.corrections: list[Correction] = []
        self.documents: list[ResultDocument] = []
        self.corrected = False
        self.updated_at = _now_iso()

    def view(self) -> ItemStatus:
        return ItemStatus(
            reference=self.reference,
            item_ref=self.sub.item_ref,
            item_code=self.sub.item_code,
            status=self.status,  # type: ignore[arg-type]
            message=self.message,
            reasons=self.reasons,
            corrections=self.corrections,
            documents=self.documents,
            updated_at=self.updated_at,
        )


def _now_iso() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds")


class SimulatorEngine:
    """State and behaviour of one simulated system; the Litestar app is a thin shell over it."""

    def __init__(
        self,
        spec: SystemSpec,
        *,
        dataset: Dataset | None = None,
        signing_key: Mapping[str, Any] | None = None,
        clients: Mapping[str, Mapping[str, Any]] | None = None,
        open_registration: bool = True,
        processing_seconds: float = 0.0,
        callback_max_attempts: int = 8,
        callback_backoff: float = 0.05,
        callback_backoff_cap: float = 5.0,
        seed: int = 0,
        lean: bool = True,
    ) -> None:
        self.spec = spec
        self.protocol = ProtocolForm(sync_accept=lean, batch_callbacks=lean)
        self._dataset = dataset
        #: the JWS ``alg`` this system signs with and accepts (its spec's: ES256 or SM2SM3)
        self.alg = spec.jws_alg
        self.signing_key = dict(signing_key or generate_signing_key(f"{spec.code}-sim-1", spec.signature_algorithm))
        if key_alg(self.signing_key) != self.alg:
            raise ValueError(f"{spec.code} signs {self.alg}; the key given is for {key_alg(self.signing_key)}")
        self.signer = Signer(self.signing_key)
        self.jwks = jwks_of(self.signing_key)
        self.clients: dict[str, Verifier] = {cid: Verifier(jwks, (self.alg,)) for cid, jwks in (clients or {}).items()}
        self.open_registration = open_registration
        self.processing_seconds = processing_seconds
        self.callback_max_attempts = callback_max_attempts
        self.callback_backoff = callback_backoff
        self.callback_backoff_cap = callback_backoff_cap
        self.faults = FaultConfig()
        self.stats = Stats()
        self._rng = random.Random(seed)  # noqa: S311 - seeded for reproducible simulations, not for secrets
        self._seq = itertools.count(1)
        self.items: dict[str, _Item] = {}
        self._by_item_ref: dict[str, str] = {}
        self._by_key: dict[tuple[str, str], tuple[str, int, bytes]] = {}
        self._sends: dict[str, int] = {}
        self.ctx = SimContext(system=spec.code)
        self._tasks: set[asyncio.Task[None]] = set()
        self._http = AgencyHTTP(CALLBACK_TIMEOUT, CALLBACK_CONNECTIONS)
        self._deliveries = asyncio.Semaphore(CALLBACK_CONNECTIONS)
        # lean form: events waiting for a batch, per callback URL, and the URLs being flushed
        self._outbox: dict[str, list[tuple[CallbackResult, asyncio.Future[bool]]]] = {}
        self._flushing: set[str] = set()

    # -- setup ------------------------------------------------------------------------------
    @property
    def dataset(self) -> Dataset:
        if self._dataset is None:
            self._dataset = load_fixtures()
        return self._dataset

    def enterprise(self, uscc: str) -> Enterprise | None:
        return self.dataset.enterprise(uscc)

    def register_client(self, client_id: str, jwks: Mapping[str, Any]) -> None:
        """Trust ``jwks`` (a JWKS or a single public JWK) for requests from ``client_id``."""
        doc = jwks if "keys" in jwks else {"keys": [dict(jwks)]}
        self.clients[client_id] = Verifier(doc, (self.alg,))

    def reset(self) -> None:
        """Forget submissions, stats and faults (clients and keys stay)."""
        for task in self._tasks:
            task.cancel()
        self._tasks.clear()
        self.faults = FaultConfig()
        self.stats = Stats()
        self.items.clear()
        self._by_item_ref.clear()
        self._by_key.clear()
        self._sends.clear()
        self._outbox.clear()
        self._flushing.clear()
        self.ctx = SimContext(system=self.spec.code)

    async def aclose(self) -> None:
        """Cancel background work and close the callback HTTP client."""
        for task in list(self._tasks):
            task.cancel()
        if self._tasks:
            await asyncio.gather(*self._tasks, return_exceptions=True)
        self._tasks.clear()
        await self._http.aclose()

    async def idle(self, within: float = 10.0) -> None:
        """Wait until no processing or callback delivery is pending (tests), at most ``within`` s."""
        deadline = time.monotonic() + within
        # A task may spawn another (processing, then its callbacks): wait again until none is left.
        while self._tasks and (left := deadline - time.monotonic()) > 0:
            await asyncio.wait(set(self._tasks), timeout=left)

    def _spawn(self, coro: Any) -> None:
        task = asyncio.get_running_loop().create_task(coro)
        self._tasks.add(task)
        task.add_done_callback(self._tasks.discard)

    # -- signed answers ---------------------------------------------------------------------
    def answer(
        self, status: int, body: bytes, *, irt: str | None = None, media_type: str = "application/json"
    ) -> Response[bytes]:
        """A response whose body is signed with the simulator's key."""
        if self.faults.malformed_responses and status < 300:
            self.stats.faults_injected += 1
            body = body[: max(1, len(body) // 2)]
        signature, _ = self.signer.sign(body, irt=irt)
        return Response(content=body, status_code=status, media_type=media_type, headers={SIGNATURE_HEADER: signature})

    def problem(
        self,
        status: int,
        code: str,
        detail: str,
        *,
        irt: str | None = None,
        errors: list[FieldError] | None = None,
        reasons: list[Reason] | None = None,
    ) -> Response[bytes]:
        doc = msgspec.to_builtins(
            Problem(
                type=f"/problems/{code.replace('_', '-')}",
                title=code,
                status=status,
                code=code,
                detail=detail,
                errors=errors,
            )
        )
        if reasons:
            doc["reasons"] = msgspec.to_builtins(reasons)
        return self.answer(status, msgspec.json.encode(doc), irt=irt, media_type=PROBLEM_MEDIA_TYPE)

    # -- faults and authentication ------------------------------------------------------------
    async def fault_gate(self) -> Response[bytes] | None:
        """Apply latency, outages and error rates before anything else happens."""
        f = self.faults
        if f.latency_ms:
            await asyncio.sleep(f.latency_ms / 1000)
        now = time.time()
        failing = f.down or any(o.start <= now < o.end for o in f.outages)
        if not failing and f.fail_next > 0:
            f.fail_next -= 1
            failing = True
        if not failing and f.error_rate and self._rng.random() < f.error_rate:
            failing = True
        if failing:
            self.stats.faults_injected += 1
            status = f.error_status
            return Response(
                content=(
                    b'{"code":"service_unavailable",'
                    b'"detail":"\xe7\xb3\xbb\xe7\xbb\x9f\xe7\xbb\xb4\xe6\x8a\xa4\xe4\xb8\xad / unavailable"}'
                ),
                status_code=status,
                media_type=PROBLEM_MEDIA_TYPE,
                headers={"Retry-After": "1"},
            )
        return None

    def authenticate(self, request: Request[Any, Any, Any], body: bytes) -> tuple[str, str] | Response[bytes]:
        """Verify client id and signature (method and path bound); returns (client_id, jti)."""
        client_id = request.headers.get(CLIENT_ID_HEADER)
        verifier = self.clients.get(client_id or "")
        if verifier is None:
            self.stats.rejected_requests += 1
            return self.problem(401, "unknown_client", "未登记的客户端 / Unknown client id.")
        try:
            header = verifier.verify(request.headers.get(SIGNATURE_HEADER), body)
        except SignatureError as exc:
            self.stats.rejected_requests += 1
            return self.problem(401, exc.code, str(exc))
        path = request.scope["path"]
        query = request.scope.get("query_string", b"").decode()
        htu = str(header.get("htu", ""))
        signed_path, _, signed_query = htu.partition("?")
        if (
            header.get("htm") != request.method
            or (request.method == "POST" and header.get("idk") != request.headers.get(IDEMPOTENCY_HEADER))
            or not path.endswith(unquote(signed_path) or "\x00")
            or parse_qs(signed_query) != parse_qs(query)
        ):
            self.stats.rejected_requests += 1
            return self.problem(
                401, "signature_scope_mismatch", "签名与请求方法或路径不符 / Signature is for another request."
            )
        return str(client_id), str(header["jti"])

    # -- submissions --------------------------------------------------------------------------
    def _decode_submission(self, body: bytes, jti: str) -> Submission | Response[bytes]:
        if too_deep(body):
            return self.problem(400, "json_too_deep", "请求体嵌套层级过多 / Body nested too deeply.", irt=jti)
        try:
            sub = msgspec.json.decode(body, type=Submission)
        except msgspec.ValidationError as exc:
            return self.problem(
                422,
                "invalid_submission",
                f"提交内容有误 / Invalid submission: {exc}",
                irt=jti,
                errors=[
                    FieldError(field=str(exc).rsplit("`$.", 1)[-1].rstrip("`"), code="invalid_value", message=str(exc))
                ],
            )
        except msgspec.DecodeError as exc:
            return self.problem(400, "malformed_body", f"请求体不是合法 JSON / Body is not JSON: {exc}", irt=jti)
        missing = []
        for path in self.spec.required_paths:
            node: Any = sub.payload
            for part in path.split("."):
                node = node.get(part) if isinstance(node, Mapping) else None
            if node in (None, ""):
                missing.append(path)
        errors = [
            FieldError(field=f"payload.{m}", code="required", message=f"缺少必填字段 {m} / {m} is required")
            for m in missing
        ]
        try:
            validate_uscc(sub.uscc)
        except ProblemError as exc:
            errors.append(FieldError(field="uscc", code="invalid_uscc", message=exc.detail or "invalid USCC"))
        if not sub.callback_url.startswith(("http://", "https://")):
            errors.append(
                FieldError(
                    field="callback_url",
                    code="invalid_callback_url",
                    message="回调地址须为 http(s) URL / callback_url must be an http(s) URL",
                )
            )
        if sub.item_code not in self.spec.items:
            errors.append(
                FieldError(
                    field="item_code",
                    code="wrong_item",
                    message=f"本系统不办理 {sub.item_code} / Item not handled here",
                )
            )
        if errors:
            return self.problem(
                422,
                "invalid_submission",
                "提交内容不符合对接标准 / Submission does not meet the interface standard.",
                irt=jti,
                errors=errors,
                reasons=[Reason(e.code, e.message, e.field) for e in errors],
            )
        return sub

    def _replay(self, client_id: str, key: str, body: bytes, jti: str) -> Response[bytes] | None:
        stored = self._by_key.get((client_id, key))
        if stored is None:
            return None
        digest, status, answer = stored
        if digest != hashlib.sha256(body).hexdigest():
            return self.problem(
                409,
                "idempotency_key_reused",
                "同一幂等键对应了不同的请求内容 / Idempotency key reused with another body.",
                irt=jti,
            )
        self.stats.idempotent_replays += 1
        return self.answer(status, answer, irt=jti)

    def _remember(self, client_id: str, key: str, body: bytes, status: int, answer: bytes) -> None:
        self._by_key[(client_id, key)] = (hashlib.sha256(body).hexdigest(), status, answer)

    async def _admit(self, request: Request[Any, Any, Any]) -> Response[bytes] | tuple[bytes, str, str, str]:
        """Faults, signature and idempotency for a write: an answer to send now, or (body, client, jti, key)."""
        if (gate := await self.fault_gate()) is not None:
            return gate
        body = await request.body()
        auth = self.authenticate(request, body)
        if isinstance(auth, Response):
            return auth
        client_id, jti = auth
        key = request.headers.get(IDEMPOTENCY_HEADER)
        if not key:
            return self.problem(
                400, "missing_idempotency_key", "缺少 Idempotency-Key / Idempotency-Key header is required.", irt=jti
            )
        if (replayed := self._replay(client_id, key, body, jti)) is not None:
            return replayed
        return body, client_id, jti, key

    async def handle_submit(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """POST submissions: verify, deduplicate, accept, process later."""
        admitted = await self._admit(request)
        if isinstance(admitted, Response):
            return admitted
        body, client_id, jti, key = admitted
        sub = self._decode_submission(body, jti)
        if isinstance(sub, Response):
            return sub
        self._sends[sub.item_ref] = self._sends.get(sub.item_ref, 0) + 1
        existing = self._by_item_ref.get(sub.item_ref)
        if existing is not None:
            self.stats.duplicates += 1
            if sub.item_ref not in self.stats.duplicate_item_refs:
                self.stats.duplicate_item_refs.append(sub.item_ref)
            status, answer = 200, msgspec.json.encode(Ack(status="accepted", reference=existing, duplicate=True))
        else:
            reference = f"{self.spec.reference_prefix}-{datetime.now(UTC):%Y%m%d}-{next(self._seq):06d}"
            item = _Item(reference, sub, client_id)
            self.items[reference] = item
            self._by_item_ref[sub.item_ref] = reference
            self.stats.submissions += 1
            event = self._event(item, "accepted", "已受理 / Accepted") if self.protocol.sync_accept else None
            self._spawn(self._process(item, accepted_answered=event is not None))
            status, answer = 202, msgspec.json.encode(Ack(status="accepted", reference=reference, event=event))
        self._remember(client_id, key, body, status, answer)
        return self.answer(status, answer, irt=jti)

    async def handle_correction(self, request: Request[Any, Any, Any], reference: str) -> Response[bytes]:
        """POST corrections (补正) for an item awaiting them."""
        admitted = await self._admit(request)
        if isinstance(admitted, Response):
            return admitted
        body, client_id, jti, key = admitted
        item = self.items.get(reference)
        if item is None:
            return self.problem(404, "unknown_reference", "业务编号不存在 / Unknown reference.", irt=jti)
        if item.status != "correction_requested":
            return self.problem(
                409,
                "not_awaiting_correction",
                "该事项不处于待补正状态 / The item is not awaiting corrections.",
                irt=jti,
            )
        sub = self._decode_submission(body, jti)
        if isinstance(sub, Response):
            return sub
        item.sub, item.corrected, item.status, item.updated_at = sub, True, "received", _now_iso()
        item.corrections, item.reasons = [], []
        self.stats.corrections += 1
        event = self._event(item, "accepted", "已受理 / Accepted") if self.protocol.sync_accept else None
        self._spawn(self._process(item, accepted_answered=event is not None))
        answer = msgspec.json.encode(Ack(status="accepted", reference=reference, event=event))
        self._remember(client_id, key, body, 202, answer)
        return self.answer(202, answer, irt=jti)

    async def handle_status(self, request: Request[Any, Any, Any], reference: str | None) -> Response[bytes]:
        """GET one item's status by reference or ``?item_ref=``."""
        if (gate := await self.fault_gate()) is not None:
            return gate
        auth = self.authenticate(request, b"")
        if isinstance(auth, Response):
            return auth
        _, jti = auth
        if reference is None:
            item_ref = request.query_params.get("item_ref")
            if not item_ref:
                return self.problem(400, "missing_item_ref", "需要 item_ref 参数 / item_ref is required.", irt=jti)
            reference = self._by_item_ref.get(item_ref)
        item = self.items.get(reference or "")
        if item is None:
            return self.problem(404, "unknown_reference", "业务编号不存在 / Unknown reference.", irt=jti)
        return self.answer(200, msgspec.json.encode(item.view()), irt=jti)

    async def handle_precheck(self, request: Request[Any, Any, Any]) -> Response[bytes]:
        """POST a pre-check (注销预检): the blockers the system sees now."""
        if (gate := await self.fault_gate()) is not None:
            return gate
        body = await request.body()
        auth = self.authenticate(request, body)
        if isinstance(auth, Response):
            return auth
        _, jti = auth
        try:
            data = msgspec.json.decode(body, type=dict[str, str])
            uscc, item_code = data["uscc"], data["item_code"]
        except (msgspec.DecodeError, KeyError):
            return self.problem(
                422, "invalid_precheck", "需要 uscc 和 item_code / uscc and item_code are required.", irt=jti
            )
        e = self.enterprise(uscc)
        ctx = SimContext(system=self.spec.code, completed_usccs=self.ctx.completed_usccs, stateful=False)
        blockers = run_checks(self.spec.checks, e, {"route": e.route} if e else {}, ctx)
        return self.answer(
            200, msgspec.json.encode(PrecheckResult(uscc=uscc, item_code=item_code, blockers=blockers)), irt=jti
        )

    # -- processing and callbacks -------------------------------------------------------------
    def _documents(self, item: _Item) -> list[ResultDocument]:
        docs = []
        for kind in self.spec.results:
            text = (
                f"%PDF-1.4\n% synthetic test document\n% {kind.name}\n% system: {self.spec.name_zh}\n"
                f"% reference: {item.reference}\n% uscc: {item.sub.uscc}\n% case: {item.sub.case_number}\n"
                # one blank A4 page: the platform reads result documents as it reads uploads (qpdf),
                # and a PDF without pages is damaged
                "1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[3 0 R]/Count 1>>endobj\n"
                "3 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"
            ).encode()
            docs.append(
                ResultDocument(
                    name=kind.name,
                    media_type=kind.media_type,
                    sha256=hashlib.sha256(text).hexdigest(),
                    content_base64=base64.b64encode(text).decode(),
                )
            )
        return docs

    def _event(self, item: _Item, outcome: Outcome, message: str) -> CallbackResult:
        item.sequence += 1
        item.status, item.message, item.updated_at = outcome, message, _now_iso()
        return CallbackResult(
            event_id=uuid.uuid4().hex,
            reference=item.reference,
            item_ref=item.sub.item_ref,
            item_code=item.sub.item_code,
            system=self.spec.code,
            outcome=outcome,
            sequence=item.sequence,
            occurred_at=item.updated_at,
            message=message,
            reasons=item.reasons,
            corrections=item.corrections,
            documents=item.documents,
        )

    def _decide(self, item: _Item) -> CallbackResult:
        sub = item.sub
        e = self.enterprise(sub.uscc)
        reasons = run_checks(self.spec.checks, e, sub.payload, self.ctx)
        if reasons:
            item.reasons = reasons
            self.stats.rejected += 1
            return self._event(item, "rejected", "不予办理 / Rejected: " + "；".join(r.code for r in reasons))
        requested = (e.corrections.get(sub.item_code) or e.corrections.get(self.spec.code)) if e else None
        if requested and not item.corrected:
            item.corrections = [Correction(kind=c.kind, name=c.name, message=c.message) for c in requested]
            self.stats.correction_requested += 1
            return self._event(item, "correction_requested", "退回补正 / Corrections requested")
        item.documents = self._documents(item)
        self.stats.completed += 1
        self.ctx.completed_usccs.add(sub.uscc)
        account = sub.payload.get("account")
        if isinstance(account, Mapping) and account.get("account_no"):
            self.ctx.closed_accounts.add(str(account["account_no"]))
        return self._event(item, "completed", "已办结 / Completed")

    async def _process(self, item: _Item, *, accepted_answered: bool = False) -> None:
        """Accept now (unless the answer did, lean form), work for the processing time, then
        decide; callbacks follow each step."""
        f = self.faults
        held: list[CallbackResult] = []  # out-of-order mode sends everything after the final event

        async def emit(event: CallbackResult) -> None:
            if f.out_of_order_callbacks and event.outcome not in ("completed", "rejected", "correction_requested"):
                held.append(event)
            else:
                await self._send(item, event)

        if not accepted_answered:
            await emit(self._event(item, "accepted", "已受理 / Accepted"))
        seconds = f.processing_ms / 1000 if f.processing_ms is not None else self.processing_seconds
        if seconds:
            await emit(self._event(item, "in_progress", "办理中 / In progress"))
            await asyncio.sleep(seconds)
        await emit(self._decide(item))
        if held:
            self.stats.faults_injected += 1
            for event in reversed(held):
                await self._send(item, event)

    async def _send(self, item: _Item, event: CallbackResult) -> None:
        """Deliver one event, applying the late / duplicate / malformed callback faults."""
        f = self.faults
        if f.late_callback_ms:
            await asyncio.sleep(f.late_callback_ms / 1000)
        deliver = self._deliver_in_batch if self.protocol.batch_callbacks else self._deliver
        await deliver(item.sub.callback_url, event, malformed_first=f.malformed_callbacks)
        if f.duplicate_callbacks:
            self.stats.faults_injected += 1
            await deliver(item.sub.callback_url, event)

    async def _deliver_in_batch(self, url: str, event: CallbackResult, *, malformed_first: bool = False) -> bool:
        """Lean form: queue one event for the next batch to ``url``; True once the receiver settled it."""
        if malformed_first:  # the corrupted copy goes alone, as in the classic form
            self.stats.faults_injected += 1
            body = msgspec.json.encode(event)
            signature, _ = self.signer.sign(body)
            with contextlib.suppress(Exception):
                async with (
                    self._deliveries,
                    self._http.session().post(
                        url,
                        data=body[:-7] + b"garbage",
                        headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"},
                    ) as resp,
                ):
                    await resp.read()
        settled: asyncio.Future[bool] = asyncio.get_running_loop().create_future()
        self._outbox.setdefault(url, []).append((event, settled))
        if url not in self._flushing:
            self._flushing.add(url)
            self._spawn(self._flush(url))
        return await settled

    async def _flush(self, url: str) -> None:
        """Send what waits for ``url`` in batches, one per free delivery slot: a burst fills batches."""
        try:
            await asyncio.sleep(BATCH_LINGER_SECONDS)
            while self._outbox.get(url):
                await self._deliveries.acquire()
                waiting = self._outbox.get(url) or []
                if not waiting:
                    self._deliveries.release()
                    break
                batch, self._outbox[url] = waiting[:BATCH_EVENTS], waiting[BATCH_EVENTS:]
                self._spawn(self._deliver_batch(url, batch))  # it releases the slot
        finally:
            self._flushing.discard(url)

    async def _deliver_batch(self, url: str, batch: list[tuple[CallbackResult, asyncio.Future[bool]]]) -> None:
        """POST one signed batch (the caller holds a delivery slot), retrying with capped exponential
        backoff what the receiver did not settle: the whole batch on failure, the events it answered
        ``retry`` otherwise."""
        pending, delay, slot_held = batch, self.callback_backoff, True
        try:
            for attempt in range(1, self.callback_max_attempts + 1):
                if not slot_held:
                    await self._deliveries.acquire()
                    slot_held = True
                body = msgspec.json.encode(CallbackBatch(events=[e for e, _ in pending]))
                signature, _ = self.signer.sign(body)  # fresh jti and iat per attempt
                answer: BatchAnswer | None = None
                try:
                    async with self._http.session().post(
                        url, data=body, headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"}
                    ) as resp:
                        content = await resp.read()
                    if 200 <= resp.status < 300:
                        answer = msgspec.json.decode(content, type=BatchAnswer)
                except Exception as exc:  # noqa: BLE001 - any delivery failure is retried, never crashes the engine
                    log.info("batch callback to %s failed (attempt %d): %r", url, attempt, exc)
                finally:
                    self._deliveries.release()
                    slot_held = False
                if answer is not None:
                    self.stats.batches_delivered += 1
                    again = {a.event_id for a in answer.results if a.status == "retry"}
                    answered = {a.event_id for a in answer.results}
                    left = []
                    for event, settled in pending:
                        if event.event_id in again or event.event_id not in answered:
                            left.append((event, settled))
                        else:
                            self.stats.callbacks_delivered += 1
                            if not settled.done():
                                settled.set_result(True)
                    self.stats.events_retried += len(left)
                    pending = left
                    if not pending:
                        return
                else:
                    self.stats.callback_attempts_failed += 1
                if attempt < self.callback_max_attempts:
                    await asyncio.sleep(delay * (0.5 + self._rng.random()))
                    delay = min(delay * 2, self.callback_backoff_cap)
            self.stats.callbacks_abandoned += len(pending)
            for _, settled in pending:
                if not settled.done():
                    settled.set_result(False)
        finally:
            if slot_held:
                self._deliveries.release()

    async def _deliver(self, url: str, event: CallbackResult, *, malformed_first: bool = False) -> bool:
        """POST one signed event, retrying with capped exponential backoff until 2xx."""
        http = self._http.session()
        body = msgspec.json.encode(event)
        if malformed_first:
            self.stats.faults_injected += 1
            signature, _ = self.signer.sign(body)
            # The same signature over a corrupted body: a correct receiver refuses it (and may fail).
            with contextlib.suppress(Exception):
                async with (
                    self._deliveries,
                    http.post(
                        url,
                        data=body[:-7] + b"garbage",
                        headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"},
                    ) as resp,
                ):
                    await resp.read()
        delay = self.callback_backoff
        for attempt in range(1, self.callback_max_attempts + 1):
            signature, _ = self.signer.sign(body)  # fresh jti and iat per attempt
            try:
                async with (
                    self._deliveries,
                    http.post(
                        url, data=body, headers={SIGNATURE_HEADER: signature, "Content-Type": "application/json"}
                    ) as resp,
                ):
                    await resp.read()  # callbacks wait on the semaphore, not in the pool (see CALLBACK_CONNECTIONS)
                if 200 <= resp.status < 300:
                    self.stats.callbacks_delivered += 1
                    return True
            except Exception as exc:  # noqa: BLE001 - any delivery failure is retried, never crashes the engine
                log.info("callback to %s failed (attempt %d): %r", url, attempt, exc)
            self.stats.callback_attempts_failed += 1
            if attempt < self.callback_max_attempts:
                await asyncio.sleep(delay * (0.5 + self._rng.random()))
                delay = min(delay * 2, self.callback_backoff_cap)
        self.stats.callbacks_abandoned += 1
        return False

    def set_faults(self, changes: Mapping[str, Any], *, replace: bool = False) -> FaultConfig:
        """Replace or merge fault settings (validated)."""
        base = {} if replace else msgspec.to_builtins(self.faults)
        self.faults = msgspec.convert({**base, **changes}, type=FaultConfig)
        return self.faults


def create_simulator_app(
    system_code: str,
    engine: SimulatorEngine | None = None,
    *,
    admin: bool = True,
    **engine_options: Any,
) -> Litestar:
    """A Litestar app simulating ``system_code``; ``app.state.engine`` is its engine."""

    spec = with_signature_algorithm(all_specs()[system_code], engine_options.pop("signature_algorithms", ""))
    eng = engine or SimulatorEngine(spec, **engine_options)
    submit = spec.submit_path

    @get(JWKS_PATH, sync_to_thread=False)
    def jwks() -> dict[str, Any]:
        return eng.jwks

    @post(submit, status_code=202)
    async def submit_item(request: Request[Any, Any, Any]) -> Response[bytes]:
        return await eng.handle_submit(request)

    @post(submit + "/{reference:str}/corrections", status_code=202)
    async def correct_item(request: Request[Any, Any, Any], reference: FromPath[str]) -> Response[bytes]:
        return await eng.handle_correction(request, reference)

    @get(submit + "/{reference:str}")
    async def item_status(request: Request[Any, Any, Any], reference: FromPath[str]) -> Response[bytes]:
        return await eng.handle_status(request, reference)

    @get(submit)
    async def item_status_by_ref(request: Request[Any, Any, Any]) -> Response[bytes]:
        return await eng.handle_status(request, None)

    @post(spec.precheck_path, status_code=200)
    async def precheck(request: Request[Any, Any, Any]) -> Response[bytes]:
        return await eng.handle_precheck(request)

    handlers: list[Any] = [jwks, submit_item, correct_item, item_status, item_status_by_ref, precheck]
    if admin:
        handlers += admin_handlers(eng)

    async def shutdown() -> None:
        await eng.aclose()

    return Litestar(
        route_handlers=handlers,
        exception_handlers=EXCEPTION_HANDLERS,
        logging_config=None,  # the host process's configure_logging owns the root logger (masked)
        on_shutdown=[shutdown],
        state=State({"engine": eng}),
        openapi_config=None,
    )


def admin_handlers(eng: SimulatorEngine) -> list[Any]:
    """The fault-injection and inspection endpoints (``/admin/...``) of one simulator."""

    @get("/admin/stats", sync_to_thread=False)
    def stats() -> dict[str, Any]:
        return {"system": eng.spec.code, **msgspec.to_builtins(eng.stats), "pending_tasks": len(eng._tasks)}

    @get("/admin/faults", sync_to_thread=False)
    def faults() -> dict[str, Any]:
        return msgspec.to_builtins(eng.faults)

    @put("/admin/faults", sync_to_thread=False)
    def replace_faults(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        return msgspec.to_builtins(_set_faults(eng, data, replace=True))

    @patch("/admin/faults", sync_to_thread=False)
    def merge_faults(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        return msgspec.to_builtins(_set_faults(eng, data, replace=False))

    @post("/admin/reset", status_code=204, sync_to_thread=False)
    def reset() -> None:
        eng.reset()

    @put("/admin/clients/{client_id:str}", sync_to_thread=False)
    def register(client_id: FromPath[str], data: JSONBody[dict[str, Any]]) -> dict[str, Any]:

        if not eng.open_registration:
            raise ProblemError(403, "registration_closed", "本测试入口不接受自助登记公钥 / Key registration is closed.")
        try:
            eng.register_client(client_id, data)
        except Exception as exc:
            raise ProblemError(422, "invalid_jwks", f"公钥格式错误 / Invalid JWK(S): {exc}", field="keys") from exc
        return {"client_id": client_id, "registered": True}

    @get("/admin/protocol", sync_to_thread=False)
    def protocol() -> dict[str, Any]:
        return msgspec.to_builtins(eng.protocol)

    @put("/admin/protocol", sync_to_thread=False)
    def set_protocol(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        from backend.lib.problems import ProblemError

        try:
            eng.protocol = msgspec.convert(data, type=ProtocolForm)
        except msgspec.ValidationError as exc:
            raise ProblemError(422, "invalid_protocol", f"协议形式参数有误 / Invalid protocol form: {exc}") from exc
        return msgspec.to_builtins(eng.protocol)

    @get("/admin/submissions", sync_to_thread=False)
    def submissions() -> list[dict[str, Any]]:
        return [
            {
                "reference": i.reference,
                "item_ref": i.sub.item_ref,
                "item_code": i.sub.item_code,
                "uscc": i.sub.uscc,
                "status": i.status,
                "sequence": i.sequence,
            }
            for i in eng.items.values()
        ]

    return [stats, faults, replace_faults, merge_faults, reset, register, protocol, set_protocol, submissions]


def _set_faults(eng: SimulatorEngine, data: Mapping[str, Any], *, replace: bool) -> FaultConfig:

    try:
        return eng.set_faults(data, replace=replace)
    except msgspec.ValidationError as exc:
        raise ProblemError(
            422, "invalid_faults", f"故障注入参数有误 / Invalid fault settings: {exc}", field="faults"
        ) from exc
