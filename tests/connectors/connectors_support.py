"""Live servers for connector tests: the test environment (all simulators) and a callback receiver,
both real HTTP on 127.0.0.1, each in its own thread with its own event loop."""

from __future__ import annotations

import asyncio
import socket
import threading
import time
from collections.abc import Iterator
from typing import Any

import httpx
import msgspec
import pytest
import uvicorn
from litestar import Litestar, Request, Response, post
from litestar.params import FromPath

from backend.connectors.base import BatchAnswer, CallbackRejected, CallbackResult, EventAnswer, MemoryReplayGuard
from backend.connectors.client import Credentials, HttpConnector
from backend.connectors.registry import all_specs, build_connector
from backend.connectors.signing import generate_signing_key, jwks_of
from backend.fixtures import load_fixtures
from backend.sandbox.mount import build_simulators, create_sandbox_app, engines_of
from tests.servers import requires_server

CLIENT_ID = "platform-test"
SYSTEMS = list(all_specs())
#: the platform's SM2 key for the systems that sign SM2 (customs, social insurance): tests pass their
#: ES256 ``platform_key`` as before, and every connector they build holds this one beside it
PLATFORM_SM2_KEY = generate_signing_key("platform-test-sm2", "SM2")


def credentials(key: dict[str, Any]) -> Credentials:
    """The test platform's credentials: ``key`` (ES256) and the SM2 key."""
    return Credentials(CLIENT_ID, key, signing_keys={"SM2SM3": PLATFORM_SM2_KEY})


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class LiveServer:
    """uvicorn serving ``app`` on a free port in a background thread."""

    def __init__(self, app: Any) -> None:
        self.port = free_port()
        self.url = f"http://127.0.0.1:{self.port}"
        config = uvicorn.Config(
            app, host="127.0.0.1", port=self.port, log_level="warning", lifespan="on", timeout_graceful_shutdown=1
        )
        self.server = uvicorn.Server(config)
        self.thread = threading.Thread(target=self.server.run, daemon=True)

    def start(self) -> LiveServer:
        requires_server("a uvicorn server")  # real HTTP on a socket: not in `make unit`
        self.thread.start()
        deadline = time.monotonic() + 10
        while not self.server.started:
            if time.monotonic() > deadline or not self.thread.is_alive():
                raise RuntimeError("server did not start")
            time.sleep(0.01)
        return self

    def stop(self) -> None:
        self.server.should_exit = True
        self.thread.join(timeout=10)


class Receiver:
    """The platform side of callbacks: verifies with each system's connector, records results."""

    def __init__(self, connectors: dict[str, HttpConnector]) -> None:
        self.connectors = connectors
        self.guard = MemoryReplayGuard()
        self.results: list[CallbackResult] = []
        self.rejections: list[tuple[str, str]] = []
        self.fail_next = 0
        self.batches = 0  # batch callbacks received (lean form)
        self.lock = threading.Lock()

        @post("/callbacks/{system:str}", status_code=200)
        async def callback(request: Request[Any, Any, Any], system: FromPath[str]) -> Response[bytes]:
            if self.fail_next > 0:
                self.fail_next -= 1
                return Response(content=b"{}", status_code=503)
            body = await request.body()
            try:
                results, batch = await self.connectors[system].verify_callbacks(dict(request.headers), body, self.guard)
            except CallbackRejected as exc:
                with self.lock:
                    self.rejections.append((system, exc.code))
                return Response(content=msgspec.json.encode({"code": exc.code}), status_code=400)
            with self.lock:
                self.results.extend(results)
                self.batches += batch
            if batch:  # lean form: one answer per event
                answer = BatchAnswer(results=[EventAnswer(event_id=r.event_id, status="applied") for r in results])
                return Response(content=msgspec.json.encode(answer), status_code=200)
            return Response(content=b'{"ok":true}', status_code=200)

        self.app = Litestar([callback], openapi_config=None)

    def reset(self) -> None:
        with self.lock:
            self.results.clear()
            self.rejections.clear()
        self.fail_next = 0
        self.batches = 0

    def for_ref(self, item_ref: str) -> list[CallbackResult]:
        with self.lock:
            return [r for r in self.results if r.item_ref == item_ref]

    async def wait_for(self, item_ref: str, outcome: str, timeout: float = 10.0) -> CallbackResult:
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for r in self.for_ref(item_ref):
                if r.outcome == outcome:
                    return r
            await asyncio.sleep(0.01)
        raise AssertionError(
            f"no {outcome} callback for {item_ref}; got {[r.outcome for r in self.for_ref(item_ref)]}, rejections "
            f"{self.rejections}"
        )


@pytest.fixture(scope="session")
def platform_key() -> dict[str, Any]:
    return generate_signing_key("platform-test-1")


@pytest.fixture(scope="session")
def env(platform_key: dict[str, Any]) -> Iterator[dict[str, Any]]:
    """The running test environment: sandbox server, receiver server, engines (session-wide)."""
    sims = build_simulators(
        clients={CLIENT_ID: jwks_of(platform_key, PLATFORM_SM2_KEY)}, callback_backoff=0.02, callback_max_attempts=6
    )
    engines = engines_of(sims)
    sandbox = LiveServer(create_sandbox_app(sims)).start()
    receiver_connectors = {
        code: build_connector(code, f"{sandbox.url}/sim/{code}", credentials(platform_key), system_jwks=eng.jwks)
        for code, eng in engines.items()
    }
    receiver = Receiver(receiver_connectors)
    receiver_server = LiveServer(receiver.app).start()
    yield {"sandbox": sandbox, "engines": engines, "receiver": receiver, "receiver_url": receiver_server.url}
    receiver_server.stop()
    sandbox.stop()


@pytest.fixture
def receiver(env: dict[str, Any]) -> Receiver:
    env["receiver"].reset()
    return env["receiver"]


@pytest.fixture
def reset_sims(env: dict[str, Any]) -> Iterator[None]:
    """Reset every simulator before and after a test (via HTTP: the engines live in the server thread)."""
    with httpx.Client(base_url=env["sandbox"].url) as c:
        for code in SYSTEMS:
            c.post(f"/sim/{code}/admin/reset")
    yield
    with httpx.Client(base_url=env["sandbox"].url) as c:
        for code in SYSTEMS:
            c.put(f"/sim/{code}/admin/faults", json={})
            c.put(f"/sim/{code}/admin/protocol", json={})  # back to the lean forms, the default


@pytest.fixture
def data():
    return load_fixtures()


def callback_url(env: dict[str, Any], system: str) -> str:
    return f"{env['receiver_url']}/callbacks/{system}"


def make_connector(env: dict[str, Any], system: str, key: dict[str, Any], **kw: Any) -> HttpConnector:
    """A connector on the test's own loop (fetches the JWKS over HTTP, like production)."""
    return build_connector(system, f"{env['sandbox'].url}/sim/{system}", credentials(key), **kw)


def stats(env: dict[str, Any], system: str) -> dict[str, Any]:
    return httpx.get(f"{env['sandbox'].url}/sim/{system}/admin/stats").json()


def set_form(env: dict[str, Any], system: str, form: str) -> None:
    """The interface standard's form a simulator uses: ``lean`` (the default) or ``classic``."""
    lean = form == "lean"
    r = httpx.put(
        f"{env['sandbox'].url}/sim/{system}/admin/protocol", json={"sync_accept": lean, "batch_callbacks": lean}
    )
    assert r.status_code == 200, r.text


def set_faults(env: dict[str, Any], system: str, **faults: Any) -> None:
    r = httpx.patch(f"{env['sandbox'].url}/sandbox/simulators/{system}/faults", json=faults)
    assert r.status_code == 200, r.text
