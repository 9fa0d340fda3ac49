"""The backup drill of docs/operations.md: ``pg_dump`` a running platform with cases in flight,
restore the dump into a fresh cluster, start the platform there, and it finishes those cases
with every timeline's hash chain still verifying.

The dump is taken while the API and workers run and one agency (AMR) is down, so cases are
caught mid-way: some items completed, some sent and waiting, some queued for a retry. The old
platform then stops for good (the machine is lost); the restored one takes over."""

from __future__ import annotations

import asyncio
import subprocess

import asyncpg
import httpx
import pytest

from tests.faults.support import Applicants, Stack, ready_draft, wait_until_settled
from tests.servers import PostgresServer, run_migrations

pytestmark = [pytest.mark.postgres, pytest.mark.redis]

CASES = 8


@pytest.fixture
def clusters():
    """(the running platform's cluster, a fresh empty one to restore into)."""
    source, target = PostgresServer(), PostgresServer()
    source.start()
    target.start()
    try:
        run_migrations(database_url=source.url)
        yield source, target
    finally:
        source.destroy()
        target.destroy()


async def test_a_dump_of_a_running_platform_restores_and_finishes_its_cases(
    clusters, redis_url, sandbox, test_platform, tmp_path, artifacts_dir
):
    from backend.cases import states as st
    from backend.cases import timeline
    from backend.cases.tables import CaseFile, CaseItem
    from backend.jobs.tables import Job

    source, target = clusters
    await sandbox.reset()
    await sandbox.faults("amr", down=True)  # registration items wait: the cases stay in flight
    platform = await test_platform(source.url, tmp_path, sandbox, clean=False)
    common = dict(redis_url=redis_url, sandbox=sandbox, log_dir=artifacts_dir, api_processes=1, workers=2)
    old = Stack(pg_url=source.url, data_dir=tmp_path / "old", **common)
    old.start()
    restored: Stack | None = None
    try:
        drafts = await asyncio.gather(*(ready_draft(platform, n) for n in range(CASES)))
        applicants = Applicants(old.url)
        async with httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=2.0)) as client:
            for n, (case_id, person) in enumerate(drafts):
                await applicants.submit(client, case_id, person, f"drill-{n}")

        async def some_items_done() -> bool:
            return await CaseItem.count().where(CaseItem.status == st.COMPLETED) > 0

        for _ in range(240):
            if await some_items_done():
                break
            await asyncio.sleep(0.5)
        in_flight = await CaseFile.count().where(CaseFile.status.is_in([st.SUBMITTED, st.ACTION_REQUIRED]))
        assert in_flight == CASES  # every case mid-way when the backup is taken

        dump = tmp_path / "platform.dump"
        await asyncio.to_thread(  # while the API and the workers keep working
            subprocess.run, [str(source.bin / "pg_dump"), "--format=custom", f"--file={dump}", source.url], check=True
        )
        old.stop()  # the machine is lost; what happened after the dump is gone with it

        admin = await asyncpg.connect(target.url)
        await admin.execute('CREATE DATABASE "restored"')
        await admin.close()
        restored_url = target.url.rsplit("/", 1)[0] + "/restored"
        await asyncio.to_thread(
            subprocess.run,
            [str(target.bin / "pg_restore"), "--no-owner", "--exit-on-error", f"--dbname={restored_url}", str(dump)],
            check=True,
        )
        await asyncio.to_thread(
            run_migrations, database_url=restored_url
        )  # as a deployment does: a no-op when the dump is current

        await test_platform(restored_url, tmp_path, sandbox, clean=False)  # the checks below read the restored one
        assert await CaseFile.count() == CASES
        await sandbox.faults("amr", down=False)
        restored = Stack(pg_url=restored_url, data_dir=tmp_path / "restored", **common)
        restored.start()
        await wait_until_settled(timeout=300)

        statuses = {r["status"] for r in await CaseFile.select(CaseFile.status)}
        assert statuses == {st.CASE_COMPLETED}, statuses
        not_done = await CaseItem.select(CaseItem.ref, CaseItem.status).where(CaseItem.status != st.COMPLETED)
        assert not_done == []
        assert await Job.select(Job.kind, Job.last_error).where(Job.status == "dead") == []
        for row in await CaseFile.select(CaseFile.id):
            assert await timeline.verify(row["id"]) == (True, None), row
    finally:
        old.stop()
        if restored is not None:
            restored.stop()
        await sandbox.faults("amr", down=False)
