"""The platform under attack: embedded mode (SQLite, in-process worker, simulated agencies),
served by uvicorn on a free loopback port inside the test's event loop, so tests reach it over
real HTTP and may still look at its database and simulators.

One platform serves the security suite (package scope: it stops when the suite ends, so its
in-process worker never outlives it); tests that exhaust a rate limit or fuzz the API with
administrator rights get platforms of their own.

Piccolo binds tables to one engine per process: an app started in-process by a test (a rate-limit
test's) rebinds them, so after every test they are bound back to what they were.
"""

from __future__ import annotations

from dataclasses import dataclass, field

import httpx
import pytest

from tests.cases.live import serve_platform
from tests.contract import ContractChecker
from tests.security.support import CASE_USCC, tokens_for_roles


@dataclass
class Live:
    """A running platform: its app (state, routes), its URL and a client for it."""

    app: object
    url: str
    client: httpx.AsyncClient
    tokens: dict[str, str | None] = field(default_factory=dict)

    @property
    def platform(self):
        return self.app.state.platform


@pytest.fixture(scope="package")
async def live(tmp_path_factory):
    async with serve_platform(tmp_path_factory.mktemp("security")) as app:
        url = app.state.platform.settings.base_url
        async with httpx.AsyncClient(base_url=url, timeout=60) as client:
            # Every answer the suite's journeys get is held to the OpenAPI document (tests/contract.py).
            contract = ContractChecker((await client.get("/schema/openapi.json")).json())
            client.event_hooks["response"].append(contract.hook)
            server = Live(app=app, url=url, client=client)
            server.tokens = await tokens_for_roles(client)  # once: /sandbox/token is rate limited
            yield server
            assert contract.checked, "no answer was checked against the OpenAPI document"
            assert not contract.violations, "answers the OpenAPI document does not promise:\n" + "\n".join(
                contract.violations[:30]
            )


@pytest.fixture(autouse=True)
def tables_stay_bound():
    """Whatever app a test starts in-process, the tables point where they pointed before it afterwards."""
    from backend import db
    from backend.cases.tables import CaseFile

    engine = CaseFile._meta._db  # None until some app has bound them (a test that starts none)
    yield
    if engine is not None:
        db.bind(engine)


@dataclass
class World:
    """Resources every role is tried against: a submitted case of CASE_USCC and its first item."""

    case_id: str
    item_ref: str
    material_id: int
    document_id: int


@pytest.fixture(scope="package")
async def world(live) -> World:
    from tests.security.support import ready_draft, submit, wait_for_status

    owner = live.tokens["owner"]
    case_id = await ready_draft(live.client, owner, CASE_USCC)
    await submit(live.client, owner, case_id, f"security-{case_id}")
    view = await wait_for_status(live.client, owner, case_id, {"completed", "refused"})
    assert view["status"] == "completed", [(i["code"], i["status"], i["message"]) for i in view["items"]]
    amr = next(i for i in view["items"] if i["system"] == "amr")
    return World(
        case_id=case_id,
        item_ref=amr["ref"],
        material_id=view["materials"][0]["id"],
        document_id=amr["documents"][0]["id"],
    )
