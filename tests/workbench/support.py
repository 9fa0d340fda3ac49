"""Back-office test helpers: staff actors and running due jobs the way the worker does.

Service tests pass ``Actor`` values directly (the same ids and scopes as the sandbox
personas); HTTP and browser tests log in through identity's real ``POST /sandbox/token``.
Cases are completed with ``tests.cases.support.complete_draft``, which signs and
verifies the applicant's face through the test environment's providers.
"""

from __future__ import annotations

from typing import Any

from backend.identity.actor import Actor
from backend.jobs import RetryLater

STAFF_AMR = Actor(
    id="staff-amr",
    name="市场监管登记注册岗（测试）",
    kind="staff",
    roles=frozenset({"agency_staff"}),
    agencies=frozenset({"amr"}),
    regions=("35",),
)
STAFF_AMR_XM = Actor(
    id="staff-amr-xiamen",
    name="厦门登记岗（测试）",
    kind="staff",
    roles=frozenset({"agency_staff"}),
    agencies=frozenset({"amr"}),
    regions=("3502",),
)
STAFF_ETAX = Actor(
    id="staff-etax",
    name="税务清税岗（测试）",
    kind="staff",
    roles=frozenset({"agency_staff"}),
    agencies=frozenset({"etax"}),
    regions=("35",),
)
ADMIN = Actor(id="admin-platform", name="平台管理员（测试）", kind="staff", roles=frozenset({"admin"}), regions=("35",))
WINDOW = Actor(
    id="window-fuzhou",
    name="福州大厅窗口（测试）",
    kind="staff",
    roles=frozenset({"window_staff"}),
    regions=("3501",),
    hall="hall-3501",
)
APPLICANT = Actor(id="P002", name="林晓燕", roles=frozenset({"applicant"}))

PERSONAS: dict[str, Actor] = {a.id: a for a in (STAFF_AMR, STAFF_AMR_XM, STAFF_ETAX, ADMIN, WINDOW, APPLICANT)}


async def install(platform, monkeypatch=None) -> None:
    """Start from empty back-office tables (the migrations created them)."""
    from backend.ratings.piccolo_app import APP_CONFIG as RATINGS
    from backend.workbench.piccolo_app import APP_CONFIG as WORKBENCH

    for table in [*WORKBENCH.table_classes, *RATINGS.table_classes]:
        await table.delete(force=True)


async def run_jobs(platform, kinds: tuple[str, ...] = ("cases.send",), rounds: int = 10) -> int:
    """Run due jobs of ``kinds`` the way the worker would; returns how many ran."""
    from backend.app import job_handlers

    handlers = job_handlers(platform)  # exactly what the worker runs
    ran = 0
    for _ in range(rounds):
        jobs = await platform.queue.claim("test-worker", kinds, 50, 60)
        if not jobs:
            break
        for job in jobs:
            ran += 1
            try:
                await handlers[job.kind](job)
                await platform.queue.complete(job, "test-worker")
            except RetryLater as exc:
                await platform.queue.fail(job, "test-worker", str(exc), delay=exc.delay)
            except Exception as exc:  # noqa: BLE001 - mirrors the worker: record and move on
                await platform.queue.fail(job, "test-worker", repr(exc), permanent=True)
    return ran


def item_by_code(view: Any, prefix: str):
    return next(i for i in view.items if i.code.startswith(prefix))
