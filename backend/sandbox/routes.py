"""Sandbox endpoints (only registered when the test environment is on).

``GET /sandbox/personas``, ``GET /sandbox/enterprises``, ``GET /sandbox/enterprises/{uscc}``
and per-simulator controls under ``/sandbox/simulators/{system}/...`` (stats, faults, reset, and
``messages`` for the push systems).
The host app must hold the simulator engines in ``app.state`` (see ``mount.sandbox_state``).
"""

from __future__ import annotations

from typing import Any

import msgspec
from litestar import Request, get, patch, post, put
from litestar.params import FromPath, FromQuery, JSONBody

from backend.fixtures import Enterprise, load_fixtures
from backend.lib.problems import ProblemError
from backend.lib.validators import validate_uscc
from backend.sandbox.mount import SIM_PREFIX, SIMULATORS_STATE_KEY
from backend.sandbox.simulator import SimulatorEngine, _set_faults


def _mask_phone(phone: str) -> str:
    return phone[:3] + "****" + phone[-4:] if len(phone) == 11 else phone


def _engine(request: Request[Any, Any, Any], system: FromPath[str]) -> SimulatorEngine:
    engines: dict[str, SimulatorEngine] = request.app.state.get(SIMULATORS_STATE_KEY) or {}
    if system not in engines:
        raise ProblemError(
            404, "unknown_system", f"没有名为 {system} 的模拟系统 / No simulator for {system}.", field="system"
        )
    return engines[system]


def _enterprise_view(e: Enterprise) -> dict[str, Any]:
    data = load_fixtures()
    out = msgspec.to_builtins(e)
    out["blockers"] = e.blockers
    people = []
    for actor in e.actors:
        person = data.person(actor.person_id)
        if person:
            people.append(
                {**msgspec.to_builtins(person), "role": actor.role, "phone_masked": _mask_phone(person.phone)}
            )
    out["people"] = people
    return out


@get("/sandbox/personas", sync_to_thread=False)
def list_personas() -> list[dict[str, Any]]:
    """Test personas (applicants, agency and window staff, admin, tester)."""
    data = load_fixtures()
    out = []
    for p in data.personas:
        item = msgspec.to_builtins(p)
        if p.person_id and (person := data.person(p.person_id)):
            item["person"] = {**msgspec.to_builtins(person), "phone_masked": _mask_phone(person.phone)}
        out.append(item)
    return out


@get("/sandbox/enterprises", sync_to_thread=False)
def list_enterprises(
    region: FromQuery[str | None] = None,
    entity_type: FromQuery[str | None] = None,
    scenario: FromQuery[str | None] = None,
    route: FromQuery[str | None] = None,
) -> list[dict[str, Any]]:
    """Fixture enterprises, optionally filtered by region prefix, entity type, scenario or route."""
    out = []
    for e in load_fixtures().enterprises:
        if region and not e.region.startswith(region.rstrip("0") or region):
            continue
        if (
            (entity_type and e.entity_type != entity_type)
            or (scenario and e.scenario != scenario)
            or (route and e.route != route)
        ):
            continue
        out.append(
            {
                "uscc": e.uscc,
                "name": e.name,
                "entity_type": e.entity_type,
                "region": e.region,
                "route": e.route,
                "scenario": e.scenario,
                "blockers": e.blockers,
            }
        )
    return out


@get("/sandbox/enterprises/{uscc:str}", sync_to_thread=False)
def get_enterprise(uscc: FromPath[str]) -> dict[str, Any]:
    """One fixture enterprise with its people and blocking situations."""

    e = load_fixtures().enterprise(validate_uscc(uscc))
    if e is None:
        raise ProblemError(
            404, "enterprise_not_found", "测试数据中没有该企业 / No fixture enterprise with this USCC.", field="uscc"
        )
    return _enterprise_view(e)


@get("/sandbox/simulators", sync_to_thread=False)
def list_simulators(request: Request[Any, Any, Any]) -> list[dict[str, Any]]:
    """The running simulators, where they live, and their counters."""
    engines: dict[str, SimulatorEngine] = request.app.state.get(SIMULATORS_STATE_KEY) or {}
    return [
        {
            "system": code,
            "name": eng.spec.name_zh,
            "base_path": f"{SIM_PREFIX}/{code}",
            "stats": msgspec.to_builtins(eng.stats),
            "faults": msgspec.to_builtins(eng.faults),
        }
        for code, eng in engines.items()
    ]


@get("/sandbox/simulators/{system:str}/stats", sync_to_thread=False)
def simulator_stats(request: Request[Any, Any, Any], system: FromPath[str]) -> dict[str, Any]:
    """Counters of one simulator."""
    return msgspec.to_builtins(_engine(request, system).stats)


@get("/sandbox/simulators/{system:str}/faults", sync_to_thread=False)
def simulator_faults(request: Request[Any, Any, Any], system: FromPath[str]) -> dict[str, Any]:
    """Current fault injection of one simulator."""
    return msgspec.to_builtins(_engine(request, system).faults)


@put("/sandbox/simulators/{system:str}/faults", sync_to_thread=False)
def replace_simulator_faults(
    request: Request[Any, Any, Any], system: FromPath[str], data: JSONBody[dict[str, Any]]
) -> dict[str, Any]:
    """Replace the fault settings of one simulator (omitted settings are off)."""
    return msgspec.to_builtins(_set_faults(_engine(request, system), data, replace=True))


@patch("/sandbox/simulators/{system:str}/faults", sync_to_thread=False)
def update_simulator_faults(
    request: Request[Any, Any, Any], system: FromPath[str], data: JSONBody[dict[str, Any]]
) -> dict[str, Any]:
    """Change some fault settings of one simulator."""
    return msgspec.to_builtins(_set_faults(_engine(request, system), data, replace=False))


@get("/sandbox/simulators/{system:str}/messages", sync_to_thread=False)
def simulator_messages(request: Request[Any, Any, Any], system: FromPath[str]) -> list[dict[str, Any]]:
    """What a push system (好差评, SMS) received, oldest first; phone numbers masked."""
    engine = _engine(request, system)
    if not hasattr(engine, "messages"):
        raise ProblemError(
            404, "not_a_push_system", f"{system} 不是推送类系统 / {system} receives no pushed messages.", field="system"
        )
    return engine.messages()


@post("/sandbox/simulators/{system:str}/reset", status_code=204, sync_to_thread=False)
def reset_simulator(request: Request[Any, Any, Any], system: FromPath[str]) -> None:
    """Forget a simulator's submissions, stats and faults."""
    _engine(request, system).reset()


SANDBOX_ROUTES = [
    list_personas,
    list_enterprises,
    get_enterprise,
    list_simulators,
    simulator_stats,
    simulator_faults,
    replace_simulator_faults,
    update_simulator_faults,
    simulator_messages,
    reset_simulator,
]
