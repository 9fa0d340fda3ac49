"""All simulators in one ASGI app under ``/sim/<system>/...`` (standalone or embedded)."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from litestar import Litestar, asgi
from litestar.datastructures import State
from litestar.handlers import ASGIRouteHandler
from litestar.types import Receive, Scope, Send

from backend import db
from backend.connectors.registration_lookup.simulator import create_registration_app
from backend.connectors.registry import all_specs
from backend.identity.sandbox import SANDBOX_ROUTES as IDENTITY_SANDBOX_ROUTES
from backend.integration import PLATFORM_CLIENT_ID, KeyFileVerifier, platform_jwks, platform_signing_keys
from backend.lib.problems import EXCEPTION_HANDLERS
from backend.sandbox.push import build_push_simulators
from backend.sandbox.simulator import SimulatorEngine, create_simulator_app
from backend.settings import Settings

#: Key under ``app.state`` where the sandbox routes find the simulator engines.
SIMULATORS_STATE_KEY = "sandbox_simulators"
SIM_PREFIX = "/sim"


def build_simulators(systems: Iterable[str] | None = None, **engine_options: Any) -> dict[str, Litestar]:
    """One simulator app per system code (all systems by default); options go to each engine."""

    codes = list(systems) if systems is not None else list(all_specs())
    keys: Mapping[str, Mapping[str, Any]] = engine_options.pop("signing_keys", None) or {}
    return {code: create_simulator_app(code, signing_key=keys.get(code), **engine_options) for code in codes}


def engines_of(simulators: Mapping[str, Litestar]) -> dict[str, SimulatorEngine]:
    """The engines behind simulator apps."""
    return {code: app.state.engine for code, app in simulators.items()}


def simulator_mounts(simulators: Mapping[str, Litestar], prefix: str = SIM_PREFIX) -> list[ASGIRouteHandler]:
    """ASGI mount handlers placing each simulator at ``{prefix}/{system}``."""
    handlers = []
    for code, app in simulators.items():

        def make(target: Litestar) -> Any:
            async def handler(scope: Scope, receive: Receive, send: Send) -> None:
                await target(scope, receive, send)

            return handler

        handlers.append(asgi(f"{prefix}/{code}", is_mount=True, copy_scope=True, name=f"sim-{code}")(make(app)))
    return handlers


async def close_simulators(simulators: Mapping[str, Litestar]) -> None:
    """Stop every simulator's background work (call from the host app's shutdown)."""
    for engine in engines_of(simulators).values():
        await engine.aclose()


def sandbox_state(simulators: Mapping[str, Litestar]) -> dict[str, Any]:
    """What the host app must put in its ``state`` for ``SANDBOX_ROUTES`` to find the simulators."""
    return {SIMULATORS_STATE_KEY: engines_of(simulators)}


def create_sandbox_app(simulators: Mapping[str, Litestar] | None = None, **engine_options: Any) -> Litestar:
    """The test environment alone: every simulator (agency and push) under ``/sim/<system>`` (the
    registration platform at ``/sim/registration``) plus ``/sandbox/...``."""
    from backend.sandbox.routes import SANDBOX_ROUTES

    # The registration platform trusts the same clients as the agency simulators.
    registration = create_registration_app(
        clients=engine_options.get("clients"),
        open_registration=engine_options.get("open_registration", True),
        signature_algorithms=engine_options.get("signature_algorithms") or "",
    )
    identity_platform = engine_options.pop("identity_platform", None)
    if simulators is not None:
        sims = simulators
    else:  # every agency system and every push system (好差评, SMS)
        from backend.sandbox.push import build_push_simulators

        push_options = {k: v for k, v in engine_options.items() if k != "open_registration"}
        sims = {**build_simulators(**dict(engine_options)), **build_push_simulators(**push_options)}
    handlers = [*SANDBOX_ROUTES, *simulator_mounts(sims), *simulator_mounts({"registration": registration})]
    state = sandbox_state(sims)
    startup: list = []
    if identity_platform is not None:  # the identity side too (backend.sandbox.identity_host)
        handlers += IDENTITY_SANDBOX_ROUTES
        state["platform"] = identity_platform

        async def start_identity() -> None:
            db.bind(identity_platform.engine)
            await db.start(identity_platform.engine, identity_platform.settings)

        startup.append(start_identity)

    async def shutdown() -> None:
        await close_simulators(sims)
        if identity_platform is not None:
            await db.stop(identity_platform.engine)

    return Litestar(
        route_handlers=handlers,
        exception_handlers=EXCEPTION_HANDLERS,
        logging_config=None,  # the host process's configure_logging owns the root logger (masked)
        state=State(state),
        on_startup=startup,
        on_shutdown=[shutdown],
    )


def build_embedded_simulators(settings: Settings) -> dict[str, Any]:
    """The simulators mounted in this process, trusting the platform's key."""
    clients = {PLATFORM_CLIENT_ID: platform_jwks(settings)}
    algorithms = settings.signature_algorithms
    simulators = {
        **build_simulators(
            clients=clients, processing_seconds=settings.sim_processing_seconds, signature_algorithms=algorithms
        ),
        **build_push_simulators(clients=clients, signature_algorithms=algorithms),
    }
    keys = platform_signing_keys(settings)
    for engine in engines_of(simulators).values():
        # The in-process systems trust our key file as it rotates, as real ones re-fetch our JWKS.
        engine.clients[PLATFORM_CLIENT_ID] = KeyFileVerifier(keys, engine.alg)
    return simulators
