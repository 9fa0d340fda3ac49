"""The province's 好差评 system and SMS platform go down during a run and come back.

Production mode as real processes (API, two workers, the test environment on its own), on
PostgreSQL and Redis. Applicants submit cases and rate hall visits over HTTP while both push
systems answer 503; a worker is SIGKILLed mid-outage; the systems come back, then flap (half
their answers 502) while more ratings arrive. Outcome: every rating event and every text the
platform wrote reached its system exactly once (same message ids on both sides, no duplicate
counted by the simulators), each rating chain in order, nothing dead-lettered, and no whole
mobile number in any log.
"""

from __future__ import annotations

import asyncio
import re

import httpx
import pytest

from tests.faults.support import CLEAN, Applicants, Stack, ready_draft, wait_until_settled

pytestmark = [pytest.mark.postgres]

PUSH = ("haochaping", "sms")
WHOLE_MOBILE = re.compile(r"(?<![0-9])1[3-9][0-9]{9}(?![0-9])")


async def control(url: str, method: str, path: str, **kwargs) -> dict | list | None:
    async with httpx.AsyncClient(base_url=url, timeout=10) as client:
        response = await client.request(method, path, **kwargs)
        response.raise_for_status()
        return response.json() if response.content else None


async def rate(client: httpx.AsyncClient, platform, applicants: Applicants, person: str, ref: str, level: int) -> None:
    """A window visit's rating over HTTP, with the one-time token its service record issued."""
    from backend.ratings.service import Ratings

    token = await applicants._token(client, person)
    visit = await Ratings(platform).issue_visit_token(
        visit_ref=ref, hall="hall-3501", region="350102", channel="window", rater_id=person
    )
    body = {"visit_token": visit.visit_token, "level": level}
    if level <= 2:
        body |= {"indicators": ["slow"], "comment": "等候时间太长"}
    response = await applicants._retrying(
        client, "POST", "/api/v1/ratings/visits", json=body, headers={"Authorization": f"Bearer {token}"}
    )
    assert response.status_code == 201, response.text


async def test_rating_reports_and_texts_survive_outages_of_their_systems(
    pg_url, redis_url, sandbox, test_platform, tmp_path, artifacts_dir
):
    from backend.jobs.tables import Job
    from backend.notifications.tables import SmsMessage
    from backend.ratings.tables import RatingPush

    await sandbox.reset()
    for code in PUSH:
        await control(sandbox.url, "POST", f"/sim/{code}/admin/reset")
    platform = await test_platform(pg_url, tmp_path, sandbox)
    stack = Stack(
        pg_url=pg_url, redis_url=redis_url, sandbox=sandbox, log_dir=artifacts_dir, data_dir=tmp_path, workers=2
    )
    applicants = Applicants(stack.url)
    stack.start()
    try:
        for code in PUSH:  # 1. both systems down
            await control(sandbox.url, "PATCH", f"/sim/{code}/admin/faults", json={"down": True})
        async with httpx.AsyncClient(timeout=httpx.Timeout(30.0, connect=2.0)) as client:
            for n, (_, person) in enumerate(CLEAN):
                case_id, person = await ready_draft(platform, n)
                await applicants.submit(client, case_id, person, f"outside-{n}")
                await rate(client, platform, applicants, person, f"V-{n}-good", 5)
                await rate(client, platform, applicants, person, f"V-{n}-bad", 1)
            await wait_until_settled(timeout=180)  # every case closes: a text to each applicant

            async def attempted() -> bool:
                stats = [await control(sandbox.url, "GET", f"/sim/{code}/admin/stats") for code in PUSH]
                return all(s["faults_injected"] >= 3 for s in stats)

            await _until(attempted, 60, "deliveries attempted during the outage")
            stack.kill_worker(0)  # mid-outage: its claimed jobs come back after their lease
            assert await RatingPush.count().where(RatingPush.status == "delivered") == 0
            assert await SmsMessage.count().where(SmsMessage.status == "sent") == 0

            for code in PUSH:  # 2. back, but flapping: half the answers are 502
                await control(
                    sandbox.url, "PUT", f"/sim/{code}/admin/faults", json={"error_rate": 0.5, "error_status": 502}
                )
            for n, (_, person) in enumerate(CLEAN):
                await rate(client, platform, applicants, person, f"V-{n}-later", 4)
            await asyncio.sleep(5)
            for code in PUSH:  # 3. healthy again
                await control(sandbox.url, "PUT", f"/sim/{code}/admin/faults", json={})

        async def drained() -> bool:
            waiting = await RatingPush.count().where(RatingPush.status != "delivered")
            unsent = await SmsMessage.count().where(SmsMessage.status == "pending")
            return waiting == 0 and unsent == 0

        await _until(drained, 240, "every report delivered and every text sent")

        reports = await RatingPush.select(RatingPush.message_id, RatingPush.chain, RatingPush.sequence)
        assert len(reports) == len(CLEAN) * (1 + 2 + 1)  # good; bad + its follow-up opened; later
        received = await control(sandbox.url, "GET", "/sandbox/simulators/haochaping/messages")
        assert sorted(m["message"]["message_id"] for m in received) == sorted(r["message_id"] for r in reports)
        for chain in {r["chain"] for r in reports}:  # each chain arrived in order
            got = [m["message"]["sequence"] for m in received if m["message"]["rating_id"] == chain]
            assert got == sorted(got), (chain, got)

        texts = await SmsMessage.select(SmsMessage.message_id, SmsMessage.status, SmsMessage.kind)
        kinds = {t["kind"] for t in texts}
        assert "case_closed" in kinds and len(texts) >= len(CLEAN), texts
        sent = sorted(t["message_id"] for t in texts if t["status"] == "sent")
        assert sorted(t["message_id"] for t in texts if t["status"] != "rate_limited") == sent
        delivered_texts = await control(sandbox.url, "GET", "/sandbox/simulators/sms/messages")
        assert sorted(m["message"]["message_id"] for m in delivered_texts) == sent

        for code in PUSH:
            stats = await control(sandbox.url, "GET", f"/sim/{code}/admin/stats")
            assert stats["duplicates"] == 0 and stats["out_of_order"] == 0, stats
        dead = await Job.select(Job.kind, Job.last_error).where(Job.status == "dead")
        assert dead == [], dead[:5]
        logs = stack.logs() + sandbox.log_path.read_text(errors="replace")
        leaked = WHOLE_MOBILE.search(logs)
        assert leaked is None, f"whole mobile number in a log: ...{logs[max(0, leaked.start() - 200) : leaked.end()]}"
    finally:
        stack.stop()


async def _until(predicate, within: float, what: str) -> None:
    deadline = asyncio.get_running_loop().time() + within
    while not await predicate():
        if asyncio.get_running_loop().time() > deadline:
            raise AssertionError(f"{what}: not within {within}s")
        await asyncio.sleep(0.5)
