"""The registration platform of the test environment: the fixture dataset over the specified interface.

Mounted by ``python -m backend.sandbox`` at ``/sim/registration``. It verifies each request's
signature (client, method and path bound) and signs each answer, as the real platform must.
Faults for outage tests: ``PATCH /admin/faults`` with ``down`` (every lookup answers 503),
``fail_next`` (the next N lookups answer 503) or ``latency_ms``.
"""

from __future__ import annotations

import asyncio
from collections.abc import Mapping
from typing import Any

import msgspec
from litestar import Litestar, Request, Response, get, patch, post, put
from litestar.datastructures import State
from litestar.params import FromPath, JSONBody

from backend.connectors.client import JWKS_PATH
from backend.connectors.registration_lookup import (
    ENTERPRISE_PATH,
    ENTERPRISE_SEARCH_PATH,
    PERSON_PATH,
    PERSON_SEARCH_PATH,
    SYSTEM,
    EnterpriseList,
    EnterpriseSearch,
    PersonList,
    PersonSearch,
    signature_algorithm,
)
from backend.connectors.signing import (
    CLIENT_ID_HEADER,
    SIGNATURE_HEADER,
    SignatureError,
    Signer,
    Verifier,
    generate_signing_key,
    jwks_of,
    jws_alg,
)
from backend.lib.problems import EXCEPTION_HANDLERS, PROBLEM_MEDIA_TYPE, ProblemError
from backend.registration import SandboxDirectory


class RegistrationFaults(msgspec.Struct, kw_only=True):
    down: bool = False
    fail_next: int = 0
    latency_ms: int = 0


class RegistrationSimulator:
    """State of the simulated registration platform: keys, trusted clients, faults and counters."""

    def __init__(
        self,
        *,
        clients: Mapping[str, Mapping[str, Any]] | None = None,
        signing_key: Mapping[str, Any] | None = None,
        open_registration: bool = True,
        signature_algorithms: str | dict[str, str] = "",
    ) -> None:
        self.directory = SandboxDirectory()
        #: ES256 as the spec says, or SM2 where the deployment's ``SIGNATURE_ALGORITHMS`` chooses it
        self.signature_algorithm = signature_algorithm(signature_algorithms)
        self.algorithms = (jws_alg(self.signature_algorithm),)
        self.signing_key = dict(signing_key or generate_signing_key(f"{SYSTEM}-sim-1", self.signature_algorithm))
        self.signer = Signer(self.signing_key)
        self.jwks = jwks_of(self.signing_key)
        self.clients = {cid: Verifier(jwks, self.algorithms) for cid, jwks in (clients or {}).items()}
        self.open_registration = open_registration
        self.faults = RegistrationFaults()
        self.lookups = 0
        self.refused = 0

    def answer(self, status: int, body: bytes, irt: str | None, media_type: str = "application/json") -> Response:
        signature, _ = self.signer.sign(body, irt=irt)
        return Response(content=body, status_code=status, media_type=media_type, headers={SIGNATURE_HEADER: signature})

    def problem(self, status: int, code: str, detail: str, irt: str | None = None) -> Response:
        doc = {"type": f"/problems/{code.replace('_', '-')}", "status": status, "code": code, "detail": detail}
        return self.answer(status, msgspec.json.encode(doc), irt, PROBLEM_MEDIA_TYPE)

    async def admit(self, request: Request, body: bytes) -> str | Response:
        """The request's ``jti`` when it is signed by a known client for this method and path."""
        if self.faults.latency_ms:
            await asyncio.sleep(self.faults.latency_ms / 1000)
        failing = self.faults.down
        if not failing and self.faults.fail_next > 0:
            self.faults.fail_next -= 1
            failing = True
        if failing:
            return Response(
                content={"code": "service_unavailable", "detail": "系统维护中"},
                status_code=503,
                media_type=PROBLEM_MEDIA_TYPE,
                headers={"Retry-After": "5"},
            )
        verifier = self.clients.get(request.headers.get(CLIENT_ID_HEADER, ""))
        if verifier is None:
            self.refused += 1
            return self.problem(401, "unknown_client", "未登记的客户端")
        try:
            header = verifier.verify(request.headers.get(SIGNATURE_HEADER), body)
        except SignatureError as exc:
            self.refused += 1
            return self.problem(401, exc.code, "签名无效")
        if header.get("htm") != request.method or not request.scope["path"].endswith(str(header.get("htu")) or "\0"):
            self.refused += 1
            return self.problem(401, "signature_scope_mismatch", "签名与请求方法或路径不符")
        self.lookups += 1
        return str(header["jti"])


def create_registration_app(simulator: RegistrationSimulator | None = None, **options: Any) -> Litestar:
    """The simulated registration platform as an ASGI app (``app.state.simulator``)."""
    sim = simulator or RegistrationSimulator(**options)
    directory = sim.directory

    @get(JWKS_PATH, sync_to_thread=False)
    def jwks() -> dict[str, Any]:
        return sim.jwks

    @get(ENTERPRISE_PATH + "/{uscc:str}")
    async def enterprise(request: Request, uscc: FromPath[str]) -> Response:
        jti = await sim.admit(request, b"")
        if isinstance(jti, Response):
            return jti
        record = await directory.enterprise(uscc)
        if record is None:
            return sim.problem(404, "enterprise_not_found", "未查询到该企业的登记信息", jti)
        return sim.answer(200, msgspec.json.encode(record), jti)

    @post(ENTERPRISE_SEARCH_PATH, status_code=200)
    async def enterprises_of(request: Request) -> Response:
        body = await request.body()
        jti = await sim.admit(request, body)
        if isinstance(jti, Response):
            return jti
        try:
            search = msgspec.json.decode(body, type=EnterpriseSearch)
        except msgspec.DecodeError:
            return sim.problem(400, "invalid_search", "查询条件格式错误", jti)
        found = await directory.enterprises_of(search.person_id, search.id_number)
        return sim.answer(200, msgspec.json.encode(EnterpriseList(found)), jti)

    @get(PERSON_PATH + "/{person_id:str}")
    async def person(request: Request, person_id: FromPath[str]) -> Response:
        jti = await sim.admit(request, b"")
        if isinstance(jti, Response):
            return jti
        record = await directory.person(person_id)
        if record is None:
            return sim.problem(404, "person_not_found", "未查询到该人员", jti)
        return sim.answer(200, msgspec.json.encode(record), jti)

    @post(PERSON_SEARCH_PATH, status_code=200)
    async def persons(request: Request) -> Response:
        body = await request.body()
        jti = await sim.admit(request, body)
        if isinstance(jti, Response):
            return jti
        try:
            search = msgspec.json.decode(body, type=PersonSearch)
        except msgspec.DecodeError:
            return sim.problem(400, "invalid_search", "查询条件格式错误", jti)
        found = await directory.person_by_id_number(search.id_number)
        return sim.answer(200, msgspec.json.encode(PersonList([found] if found else [])), jti)

    @get("/admin/stats", sync_to_thread=False)
    def stats() -> dict[str, Any]:
        return {
            "system": SYSTEM,
            "signature_algorithm": sim.signature_algorithm,
            "lookups": sim.lookups,
            "refused": sim.refused,
        }

    @patch("/admin/faults", sync_to_thread=False)
    def faults(data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        try:
            sim.faults = msgspec.convert({**msgspec.to_builtins(sim.faults), **data}, type=RegistrationFaults)
        except msgspec.ValidationError as exc:
            raise ProblemError(422, "invalid_faults", f"故障注入参数有误：{exc}", field="faults") from exc
        return msgspec.to_builtins(sim.faults)

    @post("/admin/reset", status_code=204, sync_to_thread=False)
    def reset() -> None:
        sim.faults = RegistrationFaults()
        sim.lookups = sim.refused = 0

    @put("/admin/clients/{client_id:str}", sync_to_thread=False)
    def register(client_id: FromPath[str], data: JSONBody[dict[str, Any]]) -> dict[str, Any]:
        if not sim.open_registration:
            raise ProblemError(403, "registration_closed", "本测试入口不接受自助登记公钥")
        try:
            sim.clients[client_id] = Verifier(data if "keys" in data else {"keys": [data]}, sim.algorithms)
        except Exception as exc:
            raise ProblemError(422, "invalid_jwks", f"公钥格式错误：{exc}", field="keys") from exc
        return {"client_id": client_id, "registered": True}

    return Litestar(
        route_handlers=[jwks, enterprise, enterprises_of, person, persons, stats, faults, reset, register],
        exception_handlers=EXCEPTION_HANDLERS,
        logging_config=None,  # the host process's configure_logging owns the root logger (masked)
        state=State({"simulator": sim}),
        openapi_config=None,
    )
