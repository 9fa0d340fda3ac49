"""Finding 5 (medium): visit ratings were not tied to a real visit.

Anyone could ``POST /api/v1/ratings/visits`` with any ``visit_ref`` and hall, and each bad
rating opened follow-up deadlines for that hall. A rating now spends a one-time token that a
real visit issued: a kiosk session (``POST /api/v1/ratings/visit-tokens``, kiosk sessions only)
or a window service record (the assisted application's handoff). Only the token's SHA-256 is
stored; it expires; it belongs to the visitor; one rating per visit. Forged, unknown, expired,
someone else's and spent tokens are refused with a problem, and record nothing and open no
follow-up.
"""

from __future__ import annotations

import base64
import hashlib
import secrets

from backend.jobs.tables import Job
from backend.ratings.service import DEADLINE_JOB
from backend.ratings.tables import FollowUp, Rating
from tests.security.support import bearer, session_token

P002_ID = "350102196602040372"  # 林晓燕, applicant-p002's ID card


async def _counts() -> dict[str, int]:
    return {
        "ratings": await Rating.count(),
        "follow_ups": await FollowUp.count(),
        "deadline_jobs": await Job.count().where(Job.kind == DEADLINE_JOB),
    }


async def _kiosk_visitor(live) -> str:
    frames = [base64.b64encode(b"jpeg-1").decode()]
    started = await live.client.post(
        "/api/v1/kiosk/sessions",
        json={"id_number": P002_ID, "name": "林晓燕", "frames": frames},
        headers=bearer(live.tokens["kiosk_terminal"]),
    )
    assert started.status_code == 201, started.text
    return started.json()["tokens"]["access_token"]


async def _rate(live, token: str | None, body: dict):
    return await live.client.post("/api/v1/ratings/visits", json=body, headers=bearer(token))


def _refused(answer, status: int, code: str) -> None:
    assert answer.status_code == status, (answer.status_code, answer.text)
    assert answer.headers["content-type"].startswith("application/problem+json")
    assert answer.json()["code"] == code, answer.json()


async def test_finding05_forged_and_free_form_visit_ratings_are_refused_and_open_nothing(live):
    applicant = live.tokens["stranger"]
    before = await _counts()
    # the old shape: any visit reference and any hall
    answer = await _rate(live, applicant, {"visit_ref": "Q-9999", "hall": "hall-350100", "level": 1})
    assert answer.status_code == 400, answer.text
    assert answer.headers["content-type"].startswith("application/problem+json")
    for forged in (secrets.token_urlsafe(32), "Q-9999", "hall-350100:Q-9999", hashlib.sha256(b"x").hexdigest()):
        _refused(await _rate(live, applicant, {"visit_token": forged, "level": 1}), 422, "invalid_visit_token")
    assert await _counts() == before


async def test_finding05_a_kiosk_session_issues_one_token_for_one_rating(live):
    from backend.ratings.tables import VisitToken

    visitor = await _kiosk_visitor(live)
    issued = await live.client.post("/api/v1/ratings/visit-tokens", headers=bearer(visitor))
    assert issued.status_code == 201, issued.text
    token = issued.json()["visit_token"]
    stored = (
        await VisitToken.select().where(VisitToken.token_hash == hashlib.sha256(token.encode()).hexdigest()).first()
    )
    assert stored is not None and token not in str(stored), "only the token's hash is kept"
    assert stored["channel"] == "kiosk" and stored["rater_id"] == "P002" and stored["expires_at"] > stored["issued_at"]

    # someone else cannot spend the visitor's token
    other = await session_token(live.client, "applicant-p010")
    before = await _counts()
    _refused(await _rate(live, other, {"visit_token": token, "level": 1}), 422, "invalid_visit_token")
    assert await _counts() == before

    rated = await _rate(live, visitor, {"visit_token": token, "level": 1, "indicators": ["other"]})
    assert rated.status_code == 201, rated.text
    rating = rated.json()
    assert rating["channel"] == "kiosk" and rating["hall"] == stored["hall"] and rating["follow_up_id"]
    after_one = await _counts()
    assert after_one["ratings"] == before["ratings"] + 1 and after_one["follow_ups"] == before["follow_ups"] + 1

    # spent: the same token (and a new one for the same visit) rate nothing more
    _refused(await _rate(live, visitor, {"visit_token": token, "level": 1}), 409, "already_rated")
    _refused(await live.client.post("/api/v1/ratings/visit-tokens", headers=bearer(visitor)), 409, "already_rated")
    assert await _counts() == after_one


async def test_finding05_only_a_kiosk_session_may_ask_for_a_token(live):
    for role in ("stranger", "owner", "window_staff", "kiosk_terminal"):
        answer = await live.client.post("/api/v1/ratings/visit-tokens", headers=bearer(live.tokens[role]))
        assert answer.status_code == 403, (role, answer.status_code, answer.text)


async def test_finding05_an_expired_or_replaced_token_is_refused(live):
    from backend.ratings.service import Ratings
    from backend.ratings.tables import VisitToken

    ratings = Ratings(live.platform)
    person = "P010"
    applicant = await session_token(live.client, "applicant-p010")
    first = await ratings.issue_visit_token(
        visit_ref="window-visit-1", hall="hall-350100", region="350102", channel="window", rater_id=person
    )
    second = await ratings.issue_visit_token(
        visit_ref="window-visit-1", hall="hall-350100", region="350102", channel="window", rater_id=person
    )
    before = await _counts()
    # asking again replaced the first token
    _refused(await _rate(live, applicant, {"visit_token": first.visit_token, "level": 2}), 422, "invalid_visit_token")
    await VisitToken.update({VisitToken.expires_at: 1}).where(
        VisitToken.token_hash == hashlib.sha256(second.visit_token.encode()).hexdigest()
    )
    _refused(await _rate(live, applicant, {"visit_token": second.visit_token, "level": 2}), 422, "invalid_visit_token")
    assert await _counts() == before
