"""Helpers of the fault-injection suite: the platform in production mode as real processes
(``python -m backend api`` and ``worker``s, the test environment as ``python -m backend.sandbox``)
on real PostgreSQL and Redis, applicants that submit over HTTP and retry like a phone would,
and the checks every scenario ends with: no case lost, no item sent twice, every case
complete, nothing dead-lettered.

Drafts are prepared through the case service on the same database (fast, and not what
these tests are about); the submission itself always goes through the API.
"""

from __future__ import annotations

import asyncio
import re
import signal
from dataclasses import dataclass, field
from pathlib import Path

import httpx

from backend.cases import states as st
from backend.identity.actor import Actor
from tests.servers import PlatformProcess, free_port

CLEAN = [  # (USCC, acting person): fixture enterprises in the jurisdiction that nothing blocks
    ("91350102MA0102003U", "P002"),
    ("91350128MA0428396P", "P010"),
    ("91350922MA402222XP", "P090"),
    ("91350521MA39210989", "P086"),
    ("91350802MA460203X9", "P105"),
]
#: agency requests per clean case: every item of the plan (BANK once per account, SEAL per system)
MIN_SUBMISSIONS_PER_CASE = 7
#: a full USCC or resident ID number (18 characters) in a log line
FULL_IDENTIFIER = re.compile(r"(?<![0-9A-Z])(?:9[1-3]35|35\d{2})[0-9A-Z]{14}(?![0-9A-Z])")


@dataclass
class Sandbox:
    """The test environment process and what the platform needs to reach it."""

    url: str
    key_file: str
    log_path: Path

    @property
    def systems(self) -> list[str]:
        from backend.connectors.registry import all_specs

        return list(all_specs())

    async def reset(self) -> None:
        """Forget every simulator's submissions, stats and faults (between tests)."""
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            for system in self.systems:
                (await client.post(f"/sim/{system}/admin/reset")).raise_for_status()

    async def faults(self, system: str, **changes) -> None:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            (await client.patch(f"/sim/{system}/admin/faults", json=changes)).raise_for_status()

    async def stats(self) -> list[dict]:
        async with httpx.AsyncClient(base_url=self.url, timeout=10) as client:
            return [(await client.get(f"/sim/{system}/admin/stats")).json() for system in self.systems]


class Stack:
    """The platform's processes in production mode; kill, restart and stop them."""

    def __init__(
        self,
        *,
        pg_url: str,
        redis_url: str,
        sandbox: Sandbox,
        log_dir: Path,
        data_dir: Path,
        api_processes: int = 2,
        workers: int = 2,
        **overrides: str,
    ) -> None:
        self.api_port = free_port()
        self.log_dir = log_dir
        self.common = dict(
            database_url=pg_url,
            redis_url=redis_url,
            test_env="true",
            connector_base_url=sandbox.url + "/sim",
            signing_key_file=sandbox.key_file,
            public_url=f"http://127.0.0.1:{self.api_port}",
            poll_seconds="3",
            worker_idle_seconds="2",
            worker_lease_seconds="5",
            data_dir=str(data_dir),
            log_format="json",
        )
        self.common.update(overrides)
        self.api = PlatformProcess(
            "api", log_dir, port=str(self.api_port), api_processes=str(api_processes), **self.common
        )
        self.workers = [PlatformProcess("worker", log_dir, **self.common) for _ in range(workers)]
        self.retired: list[PlatformProcess] = []  # killed processes, kept for their logs

    @property
    def url(self) -> str:
        return self.api.url

    def start(self) -> None:
        """The API and the workers, once each worker claims jobs: a fault injected before a worker has
        connected would meet its start-up wait, not its running loop (a loaded CI machine takes seconds)."""
        self.api.start()
        for worker in self.workers:
            worker.start(wait=False)
        for worker in self.workers:
            worker.wait_started()

    def kill_worker(self, index: int) -> None:
        """SIGKILL one worker (jobs it claimed are mid-run) and start a replacement."""
        victim = self.workers.pop(index % len(self.workers))
        victim.signal(signal.SIGKILL)
        victim.proc.wait(10)
        self.retired.append(victim)
        replacement = PlatformProcess("worker", self.log_dir, **self.common)
        replacement.start(wait=False)
        self.workers.append(replacement)

    async def kill_api(self, *, down_seconds: float = 0.0) -> None:
        """SIGKILL every API process (supervisor and children) and start the API again."""
        self.api.signal(signal.SIGKILL)
        await asyncio.to_thread(self.api.proc.wait, 10)
        self.retired.append(self.api)
        await asyncio.sleep(down_seconds)
        self.api = PlatformProcess("api", self.log_dir, **{**self.api.settings})
        await asyncio.to_thread(self.api.start)

    def kill_api_child(self, index: int) -> bool:
        """SIGKILL one of uvicorn's API processes; its supervisor starts another."""
        import os

        pid = self.api.proc.pid
        try:
            children = [int(c) for c in Path(f"/proc/{pid}/task/{pid}/children").read_text().split()]
        except OSError:
            return False
        if not children:
            return False
        os.kill(children[index % len(children)], signal.SIGKILL)
        return True

    def processes(self) -> list[PlatformProcess]:
        return [self.api, *self.workers, *self.retired]

    def logs(self) -> str:
        return "".join(p.log() for p in self.processes())

    def stop(self) -> None:
        for proc in [*self.workers, self.api]:
            proc.stop()


@dataclass
class Applicants:
    """Applicants' phones: submit over HTTP, retrying with the same Idempotency-Key."""

    url: str
    tokens: dict[str, str] = field(default_factory=dict)
    retries: int = 0
    answers: dict[str, dict] = field(default_factory=dict)  # case id -> the view the API finally answered

    async def _token(self, client: httpx.AsyncClient, person: str) -> str:
        if person not in self.tokens:
            response = await self._retrying(client, "POST", "/sandbox/token", json={"persona": f"person-{person}"})
            self.tokens[person] = response.json()["access_token"]
        return self.tokens[person]

    async def _retrying(
        self, client: httpx.AsyncClient, method: str, path: str, timeout: float = 120.0, **kwargs
    ) -> httpx.Response:
        """The request, again after connection errors and 502/503/504 (the same request: same key)."""
        deadline = asyncio.get_running_loop().time() + timeout
        while True:
            try:
                response = await client.request(method, self.url + path, **kwargs)
                if response.status_code not in (502, 503, 504):
                    return response
            except httpx.TransportError:
                pass
            if asyncio.get_running_loop().time() > deadline:
                raise AssertionError(f"{method} {path} did not succeed within {timeout}s")
            self.retries += 1
            await asyncio.sleep(0.3)

    async def submit(self, client: httpx.AsyncClient, case_id: str, person: str, key: str) -> dict:
        """一次提交 over HTTP; after a dropped connection the phone sends the same request again."""
        token = await self._token(client, person)
        response = await self._retrying(
            client,
            "POST",
            f"/api/v1/cases/{case_id}/submit",
            headers={"Authorization": f"Bearer {token}", "Idempotency-Key": key},
        )
        assert response.status_code == 200, (case_id, response.status_code, response.text)
        view = response.json()
        assert view["id"] == case_id and view["number"], view
        self.answers[case_id] = view
        return view


async def ready_draft(platform, n: int) -> tuple[str, str]:
    """A draft of a clean enterprise, ready to submit (answers, form, materials, signatures, face)."""
    from tests.cases.support import complete_draft

    uscc, person = CLEAN[n % len(CLEAN)]
    view = await complete_draft(platform, Actor(id=person), uscc=uscc)
    return view.id, person


async def wait_until_settled(timeout: float) -> None:
    """Until no case is still open (or the timeout passes; the outcome checks then say why)."""
    from backend.cases.tables import CaseFile

    deadline = asyncio.get_running_loop().time() + timeout
    while asyncio.get_running_loop().time() < deadline:
        try:
            open_cases = await CaseFile.count().where(CaseFile.status.is_in([st.SUBMITTED, st.ACTION_REQUIRED]))
        except Exception:  # noqa: BLE001 - the database may be coming back from a restart
            open_cases = None
        if open_cases == 0:
            return
        await asyncio.sleep(1)


async def assert_outcome(sandbox: Sandbox, cases: int, submitted: dict[str, str]) -> list[dict]:
    """No case lost, each submitted once, every case complete, nothing dead, no item sent twice."""
    from backend.cases.tables import CaseFile, CaseItem
    from backend.jobs.tables import Job

    rows = await CaseFile.select(CaseFile.public_id, CaseFile.status, CaseFile.number, CaseFile.submit_key)
    assert len(rows) == cases, f"{len(rows)} cases in the database, {cases} submitted"
    assert {r["public_id"]: r["submit_key"] for r in rows} == submitted  # exactly one case per Idempotency-Key
    assert len({r["number"] for r in rows}) == cases
    not_done = await CaseItem.select(CaseItem.ref, CaseItem.status, CaseItem.message).where(
        CaseItem.status != st.COMPLETED
    )
    assert not_done == [], not_done[:10]
    statuses = {r["status"] for r in rows}
    assert statuses == {st.CASE_COMPLETED}, statuses
    dead = await Job.select(Job.kind, Job.last_error).where(Job.status == "dead")
    assert dead == [], dead[:5]
    from backend.cases import timeline

    for row in await CaseFile.select(CaseFile.id):  # every timeline's hash chain intact under concurrent writers
        assert await timeline.verify(row["id"]) == (True, None), row
    stats = await sandbox.stats()
    assert sum(s["duplicates"] for s in stats) == 0, [
        (s["system"], s["duplicate_item_refs"]) for s in stats if s["duplicates"]
    ]
    assert sum(s["submissions"] for s in stats) >= cases * MIN_SUBMISSIONS_PER_CASE, stats
    return stats
