"""Same class as finding 11, on the way in from an agency: a result document in a callback was
stored with the media type the agency declared and handed to the applicant as it came, checked
only against its own hash. A document carrying markup or script (here an HTML page declared as a
PDF) is now refused as the applicant's own uploads are, and logged; the outcome and the genuine
documents beside it stand, each stored with the type its content shows."""

from __future__ import annotations

import base64
import hashlib
import uuid

import msgspec

from backend.cases.tables import CaseDocument, CaseItem
from backend.connectors.base import CallbackResult, ResultDocument
from backend.connectors.signing import SIGNATURE_HEADER
from backend.sandbox.mount import SIMULATORS_STATE_KEY
from tests.cases.support import TINY_PDF
from tests.security.test_finding01_item_routing import open_case  # noqa: F401 - the shared module fixture

PAGE = b"<html><body><script>fetch('/api/v1/me').then(r => r.text()).then(alert)</script></body></html>"


def _document(name: str, content: bytes) -> ResultDocument:
    return ResultDocument(
        name=name,
        media_type="application/pdf",  # what the agency says, not what the bytes are
        sha256=hashlib.sha256(content).hexdigest(),
        content_base64=base64.b64encode(content).decode(),
    )


async def test_a_result_document_with_script_is_not_handed_to_the_applicant(live, open_case, caplog):  # noqa: F811
    amr_item = next(i for i in open_case["items"] if i["system"] == "amr")
    body = msgspec.json.encode(
        CallbackResult(
            event_id=f"evt-{uuid.uuid4().hex}",
            reference=amr_item["reference"] or "R",
            item_ref=amr_item["ref"],
            item_code=amr_item["code"],
            system="amr",
            outcome="completed",
            sequence=50,
            occurred_at="2026-11-26T08:00:00+08:00",
            message="准予注销登记",
            documents=[
                _document("准予注销登记通知书.pdf", TINY_PDF),
                _document("附件.pdf", PAGE),
                _document("附件2.pdf", TINY_PDF.replace(b"%%EOF", b"<script>alert(1)</script>\n%%EOF")),
            ],
        )
    )
    signature, _ = live.app.state[SIMULATORS_STATE_KEY]["amr"].signer.sign(body)
    answer = await live.client.post(
        "/api/v1/callbacks/amr", content=body, headers={"Content-Type": "application/json", SIGNATURE_HEADER: signature}
    )
    assert answer.status_code < 300, answer.text
    item = await CaseItem.select(CaseItem.status).where(CaseItem.ref == amr_item["ref"]).first()
    assert item is not None and item["status"] == "completed"  # the outcome stands
    stored = await CaseDocument.select(CaseDocument.name, CaseDocument.media_type).where(
        CaseDocument.item_ref == amr_item["ref"]
    )
    assert stored == [{"name": "准予注销登记通知书.pdf", "media_type": "application/pdf"}]
    refused = [r for r in caplog.records if r.getMessage() == "result document refused"]
    assert [(r.document, r.code) for r in refused] == [
        ("附件.pdf", "unsupported_material"),  # a web page, whatever its name says
        ("附件2.pdf", "unsafe_material"),  # a PDF carrying script
    ], [vars(r) for r in refused]
