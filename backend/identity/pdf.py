"""A small, deterministic PDF 1.4 writer for documents to be signed (text lines, CJK included).

Text uses the standard CID font ``STSong-Light`` with the ``UniGB-UCS2-H`` CMap, which every
conforming reader provides for Simplified Chinese, so no font is embedded. Output is
deterministic (no dates, fixed IDs): the same content always gives the same bytes and
therefore the same SHA-256, which is what signers sign.
"""

from __future__ import annotations

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN = 56


def _ucs2_hex(text: str) -> str:
    """UCS-2 big-endian hex string for ``UniGB-UCS2-H`` (characters outside the BMP become '?')."""
    out = []
    for ch in text:
        code = ord(ch)
        out.append(f"{code if code <= 0xFFFF else 0x3F:04X}")
    return "<" + "".join(out) + ">"


def _wrap(text: str, size: float, width: float) -> list[str]:
    """Wrap a line by estimated advance widths (CJK 1 em, others 0.5 em)."""
    lines, current, used = [], "", 0.0
    for ch in text:
        advance = size if ord(ch) > 0x2E7F else size * 0.5
        if used + advance > width and current:
            lines.append(current)
            current, used = "", 0.0
        current += ch
        used += advance
    lines.append(current)
    return lines


def render_pdf(title: str, lines: list[str], *, size: float = 11, title_size: float = 16) -> bytes:
    """A PDF with ``title`` and ``lines`` of text, paginated on A4."""
    leading = size * 1.6
    usable = PAGE_WIDTH - 2 * MARGIN
    wrapped: list[tuple[float, str]] = [(title_size, t) for t in _wrap(title, title_size, usable)] + [(size, "")]
    for line in lines:
        wrapped += [(size, part) for part in _wrap(line, size, usable)]
    pages: list[list[tuple[float, str]]] = [[]]
    y = PAGE_HEIGHT - MARGIN
    for item in wrapped:
        step = item[0] * 1.6 if item[0] != size else leading
        if y - step < MARGIN:
            pages.append([])
            y = PAGE_HEIGHT - MARGIN
        pages[-1].append(item)
        y -= step

    objects: list[bytes] = []

    def add(body: bytes) -> int:
        objects.append(body)
        return len(objects)

    catalog = add(b"")  # filled in below
    pages_id = add(b"")
    font_id = add(
        b"<< /Type /Font /Subtype /Type0 /BaseFont /STSong-Light /Encoding /UniGB-UCS2-H "
        b"/DescendantFonts [<< /Type /Font /Subtype /CIDFontType0 /BaseFont /STSong-Light "
        b"/CIDSystemInfo << /Registry (Adobe) /Ordering (GB1) /Supplement 2 >> "
        b"/FontDescriptor << /Type /FontDescriptor /FontName /STSong-Light /Flags 6 /FontBBox [-25 -254 1000 880] "
        b"/ItalicAngle 0 /Ascent 880 /Descent -120 /CapHeight 880 /StemV 93 >> /DW 1000 >>] >>"
    )
    page_ids = []
    for page in pages:
        ops = ["BT"]
        y = PAGE_HEIGHT - MARGIN
        for font_size, text in page:
            y -= font_size * 1.6 if font_size != size else leading
            ops.append(f"/F1 {font_size:g} Tf 1 0 0 1 {MARGIN} {y:.2f} Tm {_ucs2_hex(text)} Tj")
        ops.append("ET")
        stream = "\n".join(ops).encode("ascii")
        content_id = add(b"<< /Length %d >>\nstream\n" % len(stream) + stream + b"\nendstream")
        page_ids.append(
            add(
                b"<< /Type /Page /Parent %d 0 R /MediaBox [0 0 %d %d] /Resources << /Font << /F1 %d 0 R >> >> /Contents %d 0 R >>"
                % (pages_id, PAGE_WIDTH, PAGE_HEIGHT, font_id, content_id)
            )
        )
    objects[catalog - 1] = b"<< /Type /Catalog /Pages %d 0 R >>" % pages_id
    kids = b" ".join(b"%d 0 R" % p for p in page_ids)
    objects[pages_id - 1] = b"<< /Type /Pages /Kids [" + kids + b"] /Count %d >>" % len(page_ids)

    out = bytearray(b"%PDF-1.4\n%\xe2\xe3\xcf\xd3\n")
    offsets = []
    for number, body in enumerate(objects, start=1):
        offsets.append(len(out))
        out += b"%d 0 obj\n" % number + body + b"\nendobj\n"
    xref_at = len(out)
    out += b"xref\n0 %d\n0000000000 65535 f \n" % (len(objects) + 1)
    for offset in offsets:
        out += b"%010d 00000 n \n" % offset
    out += b"trailer\n<< /Size %d /Root %d 0 R >>\nstartxref\n%d\n%%%%EOF\n" % (len(objects) + 1, catalog, xref_at)
    return bytes(out)
