"""Text messages over real HTTP to the SMS platform's simulator: the text in the person's
language with times in China Standard Time, opt-out in the person's settings (API), the hourly
limit, numbers masked in the logs, and a platform outage that loses and doubles nothing."""

from __future__ import annotations

import logging

import httpx
import pytest

from backend.lib.logging import JsonFormatter
from backend.notifications.sms import sms_counts
from backend.notifications.tables import Notification, SmsMessage
from backend.sandbox.mount import SIMULATORS_STATE_KEY
from tests.cases.live import serve_platform, wait_until

PERSON, PHONE = "P002", "19900000002"  # applicant-p002 in the fixtures


@pytest.fixture
async def live(tmp_path):
    async with serve_platform(tmp_path, sms_per_hour=3) as app:
        yield app


async def api_session(app) -> httpx.AsyncClient:
    client = httpx.AsyncClient(base_url=app.state.platform.settings.base_url, timeout=10)
    token = (await client.post("/sandbox/token", json={"persona": "applicant-p002"})).json()["access_token"]
    client.headers["Authorization"] = f"Bearer {token}"
    return client


async def sent(n: int):
    async def check():
        counts = await sms_counts()
        return counts if counts["sent"] == n and counts["pending"] == 0 else None

    return await wait_until(check, timeout=90, what=f"{n} texts sent")


async def test_texts_reach_the_sms_platform_in_the_persons_language_and_respect_opt_out(live, caplog):
    platform = live.state.platform
    engine = live.state[SIMULATORS_STATE_KEY]["sms"]
    caplog.set_level(logging.INFO, logger="backend.notifications.sms")

    await platform.notify_applicant(PERSON, "correction_requested", {"case": "c1", "item": "TAX-UNIFIED"})
    await sent(1)
    kept = engine.messages(masked=False)
    assert kept[0]["message"]["phone"] == PHONE and kept[0]["message"]["lang"] == "zh-CN"
    text = kept[0]["message"]["content"]
    assert text.startswith("【福建企业注销】") and "补正" in text and "TAX-UNIFIED" not in text

    api = await api_session(live)
    try:
        assert (await api.get("/api/v1/notifications/preferences")).json() == {"sms": True, "language": "zh-CN"}
        bad = await api.put("/api/v1/notifications/preferences", json={"sms": True, "language": "fr"})
        assert bad.status_code == 422 and bad.json()["code"] == "unsupported_language"
        ok = await api.put("/api/v1/notifications/preferences", json={"sms": True, "language": "en"})
        assert ok.status_code == 200 and ok.json()["language"] == "en"

        expires = 1_796_227_200_000  # 2026-12-02 16:00 UTC = 2026-12-03 00:00 China Standard Time
        await platform.notify_applicant(PERSON, "draft_expiring", {"case": "c1", "expires_at": expires})
        await sent(2)
        english = engine.messages(masked=False)[-1]["message"]
        assert english["lang"] == "en" and "00:00 on 3 December 2026 (China Standard Time)" in english["content"]

        off = await api.put("/api/v1/notifications/preferences", json={"sms": False, "language": "en"})
        assert off.json()["sms"] is False
        await platform.notify_applicant(PERSON, "case_closed", {"case": "c1"})
    finally:
        await api.aclose()
    # opted out: the in-app notification is written, no text
    assert await Notification.count().where(Notification.person_id == PERSON) == 3
    assert await SmsMessage.count() == 2 and len(engine.received) == 2
    # the logs (JSON lines, as in production) name the number masked only
    logged = "\n".join(JsonFormatter().format(r) for r in caplog.records if r.name.endswith("sms"))
    assert "199****0002" in logged and PHONE not in logged


async def test_the_hourly_limit_keeps_a_record_and_an_outage_loses_and_doubles_nothing(live):
    platform = live.state.platform
    engine = live.state[SIMULATORS_STATE_KEY]["sms"]
    engine.set_faults({"down": True})
    for kind in ("signature_requested", "correction_requested", "case_refused", "rating_reply"):
        await platform.notify_applicant(PERSON, kind, {"case": "c2"})
    counts = await sms_counts()
    assert counts["pending"] == 3 and counts["rate_limited"] == 1  # SMS_PER_HOUR=3 in this test
    await wait_until(lambda: _value(engine.stats.faults_injected >= 3), timeout=30, what="attempts during the outage")
    assert engine.received == []
    engine.set_faults({}, replace=True)
    await sent(3)
    assert engine.stats.duplicates == 0 and engine.stats.submissions == 3
    assert sorted(m["message"]["template"] for m in engine.received) == [
        "case_refused",
        "correction_requested",
        "signature_requested",
    ]


async def _value(v):
    return v
