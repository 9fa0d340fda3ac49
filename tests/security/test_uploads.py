"""Upload attacks: each refused through ``POST /api/v1/cases/{id}/materials`` with a clear problem
code naming the field, and nothing saved. Real files of every accepted kind still go through.

Decompression is bounded: the deflate and PDF bombs below would inflate to hundreds of megabytes;
``test_bombs_are_judged_without_inflating_them`` shows the check's memory stays small.
"""

from __future__ import annotations

import functools
import struct
import tracemalloc
import zlib

import httpx
import pytest

from backend.cases.materials import MAX_BYTES, MAX_PDF_INFLATED, check_upload
from backend.cases.tables import CaseFile, CaseMaterial
from backend.lib.problems import ProblemError
from tests.cases.support import BASE_ANSWERS, TINY_PDF, materials_to_upload
from tests.security.support import OTHER_USCC, bearer, session_token

# ---- files -----------------------------------------------------------------------------------------


def _chunk(kind: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data))


def png(width: int = 2, height: int = 2, *, idat: bytes | None = None, after: bytes = b"") -> bytes:
    """An 8-bit RGB PNG; by default with exactly the pixel data its header declares."""
    if idat is None:
        idat = zlib.compress(b"\x00" * (height * (1 + 3 * width)))
    ihdr = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    return b"\x89PNG\r\n\x1a\n" + _chunk(b"IHDR", ihdr) + _chunk(b"IDAT", idat) + _chunk(b"IEND", b"") + after


def jpeg(width: int = 1, height: int = 1, *, comment: bytes = b"") -> bytes:
    com = b"\xff\xfe" + struct.pack(">H", len(comment) + 2) + comment if comment else b""
    sof = b"\xff\xc0" + struct.pack(">HBHHB", 17, 8, height, width, 3) + b"\x01\x22\x00\x02\x11\x01\x03\x11\x01"
    return (
        b"\xff\xd8\xff\xe0\x00\x10JFIF\x00\x01\x01\x00\x00\x01\x00\x01\x00\x00"
        + com
        + sof
        + b"\xff\xda\x00\x08\x01\x01\x00\x00\x3f\x00\x00\xff\xd9"
    )


def zeros_deflated(size: int) -> bytes:
    """A zlib stream of ``size`` zero bytes (a MiB-multiple), about a thousandth of it, made in a blink.

    One MiB of zeros deflated up to a full flush is byte-aligned and needs no history, so the
    same bytes repeated are a valid stream of any length; the Adler-32 of n zeros is (n mod 65521) << 16 | 1.
    """
    piece = zlib.compressobj(9, zlib.DEFLATED, -15)
    block = piece.compress(b"\x00" * (1 << 20)) + piece.flush(zlib.Z_FULL_FLUSH)
    final = zlib.compressobj(9, zlib.DEFLATED, -15).flush()
    return b"\x78\xda" + block * (size >> 20) + final + struct.pack(">I", ((size % 65521) << 16) | 1)


@functools.cache
def deflate_bomb() -> bytes:
    return zeros_deflated(256 << 20)  # 256 MiB of zeros in about 250 KB


@functools.cache
def pdf_bomb() -> bytes:
    body = zeros_deflated(MAX_PDF_INFLATED + (16 << 20))
    return pdf(b"4 0 obj<</Length %d/Filter/FlateDecode>>stream\n" % len(body) + body + b"\nendstream endobj\n")


def pdf(*objects: bytes) -> bytes:
    """A one-page PDF without cross-references (a reader rebuilds them) carrying ``objects``."""
    return (
        b"%PDF-1.7\n1 0 obj<</Type/Catalog/Pages 2 0 R>>endobj\n2 0 obj<</Type/Pages/Kids[9 0 R]/Count 1>>endobj\n"
        b"9 0 obj<</Type/Page/Parent 2 0 R/MediaBox[0 0 595 842]>>endobj\n"
        + b"".join(objects)
        + b"trailer<</Root 1 0 R>>\n%%EOF\n"
    )


def object_stream(text: bytes) -> bytes:
    packed = zlib.compress(text)
    return (
        b"5 0 obj<</Type/ObjStm/N 1/First 4/Length %d/Filter/FlateDecode>>stream\n" % len(packed)
        + packed
        + b"\nendstream endobj\n"
    )


ATTACKS: dict[str, tuple[str, bytes, int, str]] = {
    # name: (file name, content, status, code)
    "Windows executable named .pdf": (
        "申请书.pdf",
        b"MZ\x90\x00\x03\x00\x00\x00" + b"\x00" * 200,
        415,
        "unsupported_material",
    ),
    "HTML named .jpg": ("photo.jpg", b"<!doctype html><script>alert(1)</script>", 415, "unsupported_material"),
    "ELF named .png": ("scan.png", b"\x7fELF\x02\x01\x01" + b"\x00" * 100, 415, "unsupported_material"),
    "SVG with script": (
        "licence.svg",
        b'<svg xmlns="http://www.w3.org/2000/svg"><script>fetch("/api/v1/me")</script></svg>',
        415,
        "unsupported_material",
    ),
    "SVG with script named .png": (
        "licence.png",
        b'<?xml version="1.0"?><svg onload="alert(1)" xmlns="http://www.w3.org/2000/svg"/>',
        415,
        "unsupported_material",
    ),
    "ZIP named .pdf": ("a.pdf", b"PK\x03\x04" + b"\x00" * 100, 415, "unsupported_material"),
    "empty file": ("a.pdf", b"", 422, "empty_material"),
    "PNG with absurd dimensions": (
        "a.png",
        png(100_000, 100_000, idat=zlib.compress(b"\x00" * 64)),
        422,
        "unsafe_material",
    ),
    "JPEG with absurd dimensions": ("a.jpg", jpeg(65_000, 65_000), 422, "unsafe_material"),
    "PNG whose pixels inflate far beyond its plausible header": (
        "a.png",
        b"",
        422,
        "unsafe_material",
    ),  # filled in below
    "PNG with a bad checksum": (
        "a.png",
        png()[:-14] + bytes([png()[-14] ^ 0xFF]) + png()[-13:],
        422,
        "unsupported_material",
    ),
    "PNG with HTML after its end (polyglot)": (
        "a.png",
        png(after=b"<html><script>alert(1)</script></html>"),
        422,
        "unsafe_material",
    ),
    "PNG with a ZIP after its end (polyglot)": (
        "a.png",
        png(after=b"PK\x03\x04" + b"\x00" * 40),
        422,
        "unsafe_material",
    ),
    "JPEG carrying a script (polyglot)": (
        "a.jpg",
        jpeg(comment=b"*/=1;<script>alert(1)</script>"),
        422,
        "unsafe_material",
    ),
    "PDF carrying HTML (polyglot)": (
        "a.pdf",
        pdf(b"3 0 obj(<html><body onload=alert(1)>)endobj\n"),
        422,
        "unsafe_material",
    ),
    "PDF with JavaScript": ("a.pdf", pdf(b"3 0 obj<</S/JavaScript/JS(app.alert(1))>>endobj\n"), 422, "unsafe_material"),
    "PDF with a Launch action": ("a.pdf", pdf(b"3 0 obj<</S/Launch/F(cmd.exe)>>endobj\n"), 422, "unsafe_material"),
    "PDF with an embedded file": (
        "a.pdf",
        pdf(b"3 0 obj<</Type/EmbeddedFile/Length 3>>stream\nabc\nendstream endobj\n"),
        422,
        "unsafe_material",
    ),
    "PDF with an escaped /J#61vaScript name": (
        "a.pdf",
        pdf(b"3 0 obj<</S/J#61vaScript/J#53(app.alert(1))>>endobj\n"),
        422,
        "unsafe_material",
    ),
    "PDF hiding JavaScript in a compressed object stream": (
        "a.pdf",
        pdf(object_stream(b"6 0 <</S/JavaScript/JS(app.alert(1))>>")),
        422,
        "unsafe_material",
    ),
    "PDF with deeply nested objects": (
        "a.pdf",
        pdf(b"3 0 obj" + b"[" * 50_000 + b"]" * 50_000 + b"endobj\n"),
        422,
        "unsafe_material",
    ),
    "PDF whose streams inflate beyond the bound (a PDF bomb)": (
        "a.pdf",
        b"",
        422,
        "unsafe_material",
    ),  # filled in below
    "PDF cut short": ("a.pdf", TINY_PDF[:-8], 422, "unsupported_material"),
}


def attack(name: str) -> tuple[str, bytes, int, str]:
    filename, content, status, code = ATTACKS[name]
    if name.startswith("PNG whose pixels"):
        content = png(2000, 2000, idat=deflate_bomb())  # 12 MB declared, 256 MiB inside
    elif name.startswith("PDF whose streams"):
        content = pdf_bomb()
    return filename, content, status, code


# ---- the platform ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
async def draft(live):
    """A draft of the applicant's own enterprise, ready for materials."""
    token = await session_token(live.client, "applicant-p002")
    auth = bearer(token)
    created = await live.client.post("/api/v1/cases", json={"uscc": OTHER_USCC}, headers=auth)
    assert created.status_code == 201, created.text
    case_id = created.json()["id"]
    view = (await live.client.patch(f"/api/v1/cases/{case_id}", json={"answers": BASE_ANSWERS}, headers=auth)).json()
    code = materials_to_upload(view["plan"])[0]
    return {"case_id": case_id, "auth": auth, "code": code}


async def stored(case_id: str) -> int:
    row = await CaseFile.select(CaseFile.id).where(CaseFile.public_id == case_id).first()
    return await CaseMaterial.count().where(CaseMaterial.case_file == row["id"])


async def upload(live, draft, filename: str, content: bytes, declared: str = "application/pdf") -> httpx.Response:
    return await live.client.post(
        f"/api/v1/cases/{draft['case_id']}/materials",
        data={"code": draft["code"]},
        files={"file": (filename, content, declared)},
        headers=draft["auth"],
    )


@pytest.mark.parametrize("name", list(ATTACKS))
async def test_attack_is_refused_and_nothing_saved(live, draft, name):
    filename, content, status, code = attack(name)
    before = await stored(draft["case_id"])
    response = await upload(live, draft, filename, content)
    assert response.status_code == status, (name, response.status_code, response.text[:300])
    assert response.headers["content-type"].startswith("application/problem+json")
    problem = response.json()
    assert problem["code"] == code and problem["errors"][0]["field"] == "file", problem
    assert await stored(draft["case_id"]) == before


async def test_genuine_files_of_every_kind_are_accepted(live, draft):
    before = await stored(draft["case_id"])
    for filename, content, declared in [
        ("a.pdf", TINY_PDF, "application/pdf"),
        ("a.png", png(640, 480), "image/png"),
        ("a.jpg", jpeg(3000, 4000), "image/jpeg"),
    ]:
        response = await upload(live, draft, filename, content, declared)
        assert response.status_code == 201, (filename, response.text)
        assert response.json()["media_type"] == declared
    assert await stored(draft["case_id"]) == before + 3


async def test_oversize_files_and_bodies_are_refused(live, draft):
    before = await stored(draft["case_id"])
    just_over = TINY_PDF[:-6] + b"%" * (MAX_BYTES - len(TINY_PDF) + 1) + b"%%EOF\n"
    response = await upload(live, draft, "big.pdf", just_over)
    assert response.status_code == 413 and response.json()["code"] == "material_too_large", response.text[:300]
    assert response.json()["errors"][0]["field"] == "file"

    body_cap = live.platform.settings.max_body_bytes
    huge = b"%PDF-1.4\n" + b"0" * body_cap
    response = await upload(live, draft, "huge.pdf", huge)
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large", response.text[:300]

    async def chunked():  # no Content-Length: the cap must hold while streaming
        yield b'--x\r\nContent-Disposition: form-data; name="code"\r\n\r\n' + draft["code"].encode() + b"\r\n"
        yield (
            b'--x\r\nContent-Disposition: form-data; name="file"; filename="s.pdf"\r\n'
            b"Content-Type: application/pdf\r\n\r\n"
        )
        for _ in range(body_cap // (1 << 20) + 2):
            yield b"0" * (1 << 20)
        yield b"\r\n--x--\r\n"

    response = await live.client.post(
        f"/api/v1/cases/{draft['case_id']}/materials",
        content=chunked(),
        headers={**draft["auth"], "Content-Type": "multipart/form-data; boundary=x"},
    )
    assert response.status_code == 413 and response.json()["code"] == "payload_too_large", response.text[:300]
    assert await stored(draft["case_id"]) == before


def test_bombs_are_judged_without_inflating_them():
    """The deflate and PDF bombs are refused with the check's memory far below what they expand to."""
    for name, expands_to in [
        ("PNG whose pixels inflate far beyond its plausible header", 256 << 20),
        ("PDF whose streams inflate beyond the bound (a PDF bomb)", MAX_PDF_INFLATED),
    ]:
        _, content, _, code = attack(name)
        tracemalloc.start()
        try:
            with pytest.raises(ProblemError) as refused:
                check_upload(content)
            _, peak = tracemalloc.get_traced_memory()
        finally:
            tracemalloc.stop()
        assert refused.value.code == code
        assert peak < 4 * len(content) + (4 << 20) and peak * 16 < expands_to, (name, peak)
