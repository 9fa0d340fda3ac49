"""帮办代办: window staff start an application for a visitor only after the visitor's own face
verification (identity's sandbox provider), the case is the visitor's, and it is handed over
to the visitor's phone; every step is audited."""

from __future__ import annotations

import pytest

from backend.identity.audit import access_records
from backend.identity.config import get_identity
from backend.identity.face import accept_face_result
from backend.identity.sandbox import sandbox_face_result
from backend.identity.tables import FaceVerification
from backend.lib.problems import ProblemError
from backend.ratings.service import Ratings
from backend.workbench import assisted
from tests.cases.support import HAPPY_USCC
from tests.workbench.support import APPLICANT, STAFF_AMR, WINDOW


async def face(platform, verification_id: str, result: str) -> None:
    row = await FaceVerification.select().where(FaceVerification.verification_id == verification_id).first()
    await accept_face_result(
        platform, sandbox_face_result(get_identity(platform), verification_id, row["nonce"], result)
    )


async def test_window_staff_start_with_consent_and_hand_over(platform):
    with pytest.raises(ProblemError) as caught:  # window staff only
        await assisted.start(platform, STAFF_AMR, HAPPY_USCC, "P002")
    assert caught.value.status == 403
    with pytest.raises(ProblemError) as caught:  # the visitor must be able to act for the enterprise
        await assisted.start(platform, WINDOW, HAPPY_USCC, "P999")
    assert caught.value.code == "not_authorised_for_enterprise"

    started = await assisted.start(platform, WINDOW, HAPPY_USCC, "P002", "林晓燕")
    assert started.status == "consent_pending" and started.face_url and started.hall == "hall-3501"
    with pytest.raises(ProblemError) as caught:  # no consent yet
        await assisted.confirm(platform, WINDOW, started.id)
    assert caught.value.code == "face_verification_required"
    with pytest.raises(ProblemError) as caught:
        await assisted.handoff(platform, WINDOW, started.id)
    assert caught.value.code == "consent_required"
    await face(platform, started.face_url.split("verification_id=")[1].split("&")[0], "failed")
    with pytest.raises(ProblemError):
        await assisted.confirm(platform, WINDOW, started.id)

    again = await assisted.start(platform, WINDOW, HAPPY_USCC, "P002", "林晓燕")
    await face(platform, again.face_url.split("verification_id=")[1].split("&")[0], "passed")
    confirmed = await assisted.confirm(platform, WINDOW, again.id)
    assert confirmed.status == "consented" and confirmed.case_id
    case = await platform.cases.view(APPLICANT, confirmed.case_id)  # the visitor's own case
    assert case.channel == "window" and case.uscc == HAPPY_USCC
    handed = await assisted.handoff(platform, WINDOW, again.id)
    assert handed.status == "handed_over" and handed.handoff_url.endswith(f"/#/case/{confirmed.case_id}/tasks")
    # 一次一评: the service record issues the visitor's one-time token; the visitor's rating spends it
    assert handed.rating_token and handed.rating_token_expires_at > platform.clock.now_ms()
    rated = await Ratings(platform).rate_visit(APPLICANT, handed.rating_token, 5, [])
    assert rated.channel == "window" and rated.hall == "hall-3501"
    with pytest.raises(ProblemError) as caught:
        await Ratings(platform).rate_visit(APPLICANT, handed.rating_token, 1, [])
    assert caught.value.code == "already_rated"
    assert not (await assisted.handoff(platform, WINDOW, again.id)).rating_token  # rated: no new token
    with pytest.raises(ProblemError) as caught:  # another window's staff cannot see it
        await assisted.get(
            platform, WINDOW.__class__(id="window-other", roles=frozenset({"window_staff"}), hall="hall-3502"), again.id
        )
    assert caught.value.status == 404
    actions = [r.action for r in await access_records(platform, case_id=confirmed.case_id)]
    assert set(actions) == {"assisted.start", "assisted.handoff"}
