"""好差评 reporting over real HTTP: ratings reach the provincial system's simulator in order and
once, through an outage; a refusal is counted as failed; the report shows the delivery state."""

from __future__ import annotations

import pytest

from backend.identity.actor import Actor
from backend.ratings.service import Ratings, report
from backend.sandbox.mount import SIMULATORS_STATE_KEY
from tests.cases.live import serve_platform, wait_until
from tests.workbench.support import ADMIN, WINDOW

HALL, REGION = "hall-3501", "350102"


@pytest.fixture
async def live(tmp_path):
    async with serve_platform(tmp_path) as app:
        yield app


async def delivered(n: int):
    async def check():
        counts = (await report())["reporting"]
        return counts if counts["delivered"] == n and counts["pending"] == 0 else None

    return await wait_until(check, timeout=90, what=f"{n} reports delivered")


async def rate_visit(ratings, person: str, visit_ref: str, level: int, indicators: list[str], comment: str = ""):
    """A window visit's rating, as the visitor makes it with the token the service record issued."""
    token = await ratings.issue_visit_token(
        visit_ref=visit_ref, hall=HALL, region=REGION, channel="window", rater_id=person
    )
    return await ratings.rate_visit(Actor(id=person), token.visit_token, level, indicators, comment)


async def test_ratings_made_while_the_system_is_down_arrive_later_in_order_and_once(live):
    platform = live.state.platform
    engine = live.state[SIMULATORS_STATE_KEY]["haochaping"]
    ratings = Ratings(platform)
    engine.set_faults({"down": True})

    good = await rate_visit(ratings, "P010", "Q-1", 5, ["attitude_good"])
    bad = await rate_visit(ratings, "P011", "Q-2", 1, ["slow"], "等了很久")
    await ratings.record_visit(WINDOW, bad.follow_up_id, "已电话回访")
    await ratings.record_rectification(WINDOW, bad.follow_up_id, "增开窗口")
    await ratings.reply(WINDOW, bad.follow_up_id, "已增开窗口，感谢监督")
    counts = (await report())["reporting"]
    assert counts["delivered"] == 0 and counts["pending"] == 6
    await wait_until(
        lambda: _async(engine.stats.faults_injected >= 2), timeout=30, what="delivery attempts during the outage"
    )
    assert engine.received == []

    engine.set_faults({}, replace=True)  # the system is back: the queued reports go out by themselves
    await delivered(6)
    assert engine.stats.duplicates == 0 and engine.stats.out_of_order == 0
    by_chain: dict[str, list[tuple[int, str]]] = {}
    for m in engine.received:
        by_chain.setdefault(m["message"]["rating_id"], []).append((m["message"]["sequence"], m["message"]["type"]))
    assert by_chain[good.id] == [(1, "rating.created")]
    assert by_chain[bad.id] == [
        (1, "rating.created"),
        (2, "follow_up.opened"),
        (3, "follow_up.visited"),
        (4, "follow_up.rectified"),
        (5, "follow_up.replied"),
    ]
    first = engine.received[0]["message"]
    assert first["occurred_at"].endswith("+08:00") and first["rating"]["level_name"]

    # the applicant rates again (final): the re-rating and the closed follow-up join the chain
    again = await ratings.rate_again(Actor(id="P011"), bad.follow_up_id, 4, [])
    await delivered(8)
    assert [(m["message"]["sequence"], m["message"]["type"]) for m in engine.received[-2:]] == [
        (6, "rating.created"),
        (7, "follow_up.closed"),
    ]
    assert engine.received[-2]["message"]["rating"]["supersedes"] == bad.id and again.id


async def test_a_refused_report_is_counted_as_failed_and_appeals_are_reported(live):
    platform = live.state.platform
    engine = live.state[SIMULATORS_STATE_KEY]["haochaping"]
    ratings = Ratings(platform)
    engine.set_faults({"reject_messages": True})
    await rate_visit(ratings, "P012", "Q-3", 3, [])

    async def failed():
        return (await report())["reporting"]["failed"] == 1

    await wait_until(failed, timeout=60, what="the refused report counted as failed")
    engine.set_faults({}, replace=True)
    bad = await rate_visit(ratings, "P013", "Q-4", 1, ["other"], "无关")
    appeal = await ratings.appeal(WINDOW, bad.id, "malicious", "与服务无关")
    await ratings.review(ADMIN, appeal.id, True, "经复核，评价内容与服务无关")  # upheld: the follow-up is void
    await delivered(5)
    assert [m["message"]["type"] for m in engine.received] == [
        "rating.created",
        "follow_up.opened",
        "appeal.filed",
        "appeal.decided",
        "follow_up.voided",
    ]
    assert engine.received[2]["message"]["appeal"]["ground"] == "malicious"
    assert engine.received[3]["message"]["appeal"]["status"] == "upheld"
    assert {m["message"]["rating_id"] for m in engine.received} == {bad.id}
    assert (await report())["reporting"] == {"delivered": 5, "pending": 0, "failed": 1}


async def _async(value):
    return value
