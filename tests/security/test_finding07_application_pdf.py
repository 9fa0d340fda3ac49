"""Finding 7 (low): any staff member could read any application PDF and signature status by id.

``GET /api/v1/signing-documents/{id}`` and ``GET /api/v1/signatures?reference=`` checked only the
caller's role, and nothing was audited. Staff now get them only where the case's own access rule
lets them read the case (an item of their agency in their regions; administrators), everyone else
as they get the case itself (404), and every staff read is in the access audit.
"""

from __future__ import annotations

from backend.identity import access_records
from tests.security.support import bearer


async def _signing(live, world) -> dict:
    response = await live.client.get(f"/api/v1/cases/{world.case_id}/signatures", headers=bearer(live.tokens["owner"]))
    assert response.status_code == 200, response.text
    return response.json()


async def test_finding07_staff_outside_the_case_get_404(live, world):
    signing = await _signing(live, world)
    document_id = signing["documents"][0]["document_id"]
    for role in ("agency_other", "region_other", "window_staff"):  # 厦门 tax; AMR of 福州 (the case is 宁德); a hall
        token = bearer(live.tokens[role])
        assert (await live.client.get(f"/api/v1/cases/{world.case_id}", headers=token)).status_code == 404
        pdf = await live.client.get(f"/api/v1/signing-documents/{document_id}", headers=token)
        assert pdf.status_code == 404, (role, pdf.status_code)
        assert not pdf.content.startswith(b"%PDF")
        status = await live.client.get("/api/v1/signatures", params={"reference": signing["reference"]}, headers=token)
        assert status.status_code == 404, (role, status.status_code, status.text[:200])


async def test_finding07_staff_reads_are_audited(live, world):
    signing = await _signing(live, world)
    document_id = signing["documents"][0]["document_id"]
    for role, subject in (("agency_staff", "staff-amr"), ("admin", "admin-platform")):
        token = bearer(live.tokens[role])
        pdf = await live.client.get(f"/api/v1/signing-documents/{document_id}", headers=token)
        assert pdf.status_code == 200 and pdf.content.startswith(b"%PDF"), (role, pdf.status_code)
        status = await live.client.get("/api/v1/signatures", params={"reference": signing["reference"]}, headers=token)
        assert status.status_code == 200, (role, status.text)
        actions = {r.action for r in await access_records(live.platform, case_id=world.case_id, subject=subject)}
        assert {"application_pdf", "signatures"} <= actions, (role, actions)


async def test_finding07_class_licence_only_for_staff_with_a_case_of_the_enterprise(live, world):
    """Same class (a route that checked only a role): any staff member could fetch any enterprise's
    e-licence. Agency staff now get it only for enterprises with a case of theirs (403 otherwise:
    enterprises are public, cases are not); reads are audited."""
    from tests.security.support import CASE_USCC

    path = f"/api/v1/enterprises/{CASE_USCC}/licence"
    for role in ("agency_other", "region_other"):  # 厦门 tax; AMR of 福州 (the enterprise is in 宁德)
        refused = await live.client.get(path, headers=bearer(live.tokens[role]))
        assert refused.status_code == 403, (role, refused.status_code)
    allowed = await live.client.get(path, headers=bearer(live.tokens["agency_staff"]))
    assert allowed.status_code == 200, allowed.text
    records = await access_records(live.platform, case_id=f"enterprise:{CASE_USCC}", subject="staff-amr")
    assert "licence" in {r.action for r in records}
