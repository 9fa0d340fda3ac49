"""Uploaded materials are judged by their content, never by their name or declared type.

Accepted: PDF, JPEG and PNG (what phones and scanners produce), at most ``MAX_BYTES``.
Refused with a problem naming the field:

- unknown or mismatched content, damaged files (``unsupported_material``, 415 / 422);
- oversize (``material_too_large``, 413);
- ``unsafe_material`` (422): images whose header declares an absurd pixel count, PNGs whose
  compressed pixels inflate to more than the header declares (deflate bombs) or that carry
  data after their end, PDFs carrying scripts, launch or submit actions or embedded files (also
  when hidden in compressed object streams or behind ``#xx`` escaped names), PDFs whose
  compressed streams inflate beyond ``MAX_PDF_INFLATED`` (PDF bombs) or whose objects nest
  deeper than ``MAX_PDF_NESTING``, and files with markup a browser would run (HTML, SVG,
  script: polyglots).

Decompression is always bounded: a PNG's pixel data is inflated (in chunks, output counted and
dropped) only up to what its checked header declares, and a PDF's streams only up to
``MAX_PDF_INFLATED`` in total, so a bomb costs a bounded amount of CPU and no memory. The
platform never decodes images or renders PDFs itself; the checks protect the people and systems
that open the materials later.
"""

from __future__ import annotations

import re
import struct
import zlib

from backend.lib.problems import ProblemError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000
# All Flate streams of one PDF together. Inflating costs CPU (roughly 1 s per 100 MB on a busy
# core), so the bound is also what a bomb may cost; scanners store pages as JPEG, CCITT or JBIG2,
# and four A4 pages of 300 dpi colour in Flate (about 100 MB) still pass.
MAX_PDF_INFLATED = 128 * 1024 * 1024
MAX_PDF_NESTING = 64
_CHUNK = 1024 * 1024

_PDF_ACTIVE = re.compile(
    rb"/(JavaScript|JS|Launch|EmbeddedFile|EmbeddedFiles|RichMedia|XFA|OpenAction|AA|SubmitForm|ImportData|GoToE|GoToR)(?![A-Za-z0-9])"
)
_PDF_NAME_ESCAPE = re.compile(rb"#([0-9A-Fa-f]{2})")
_PDF_STREAM = re.compile(rb"stream\r?\n")
_PDF_STRING = re.compile(rb"\((?:[^()\\]|\\.)*\)", re.S)
_PDF_NESTING_TOKEN = re.compile(rb"<<|>>|\[|\]")
_MARKUP = re.compile(rb"<\s*(?:script|html|svg|iframe|object|embed|body)\b|<\?php|javascript:", re.I)
_ZLIB_HEADER = re.compile(rb"\x78[\x01\x5e\x9c\xda]")

# PNG colour types → channels
_PNG_CHANNELS = {0: 1, 2: 3, 3: 1, 4: 2, 6: 4}
_ADAM7 = ((0, 0, 8, 8), (4, 0, 8, 8), (0, 4, 4, 8), (2, 0, 4, 4), (0, 2, 2, 4), (1, 0, 2, 2), (0, 1, 1, 2))


def sniff(content: bytes) -> str | None:
    """The media type the bytes really are (of those we accept), or None."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


class _Unsafe(Exception):
    """The file is well formed enough to judge, and dangerous."""


def _inflated_size(data: bytes, limit: int) -> int:
    """Inflate a zlib stream counting (and dropping) the output; stop as soon as it passes ``limit``.

    Returns the inflated size, or ``limit + 1`` when there is more. ``zlib.error`` when damaged.
    """
    inflater = zlib.decompressobj()
    total = 0
    out = inflater.decompress(data, _CHUNK)
    while True:
        total += len(out)
        if total > limit:
            return limit + 1
        if inflater.eof or (not inflater.unconsumed_tail and len(out) < _CHUNK):
            return total
        out = inflater.decompress(inflater.unconsumed_tail, _CHUNK)


def _png_raw_size(width: int, height: int, bits_per_pixel: int, interlaced: bool) -> int:
    """Bytes the filtered scanlines of an image of this header take (what IDAT must inflate to)."""

    def rows(w: int, h: int) -> int:
        return 0 if w == 0 or h == 0 else h * (1 + (w * bits_per_pixel + 7) // 8)

    if not interlaced:
        return rows(width, height)
    return sum(
        rows((width - x0 + dx - 1) // dx if width > x0 else 0, (height - y0 + dy - 1) // dy if height > y0 else 0)
        for x0, y0, dx, dy in _ADAM7
    )


def _check_png(content: bytes) -> None:
    """Walk the chunks (CRCs, IHDR first, nothing after IEND), check the dimensions, bound-inflate IDAT."""
    pos = 8
    header: tuple[int, int, int, int, int] | None = None
    idat: list[bytes] = []
    while True:
        if pos + 12 > len(content):
            raise ValueError("truncated chunk")
        length, kind = struct.unpack(">I4s", content[pos : pos + 8])
        end = pos + 12 + length
        if end > len(content):
            raise ValueError("truncated chunk")
        data = content[pos + 8 : pos + 8 + length]
        if zlib.crc32(kind + data) != struct.unpack(">I", content[end - 4 : end])[0]:
            raise ValueError("bad CRC")
        if header is None:
            if kind != b"IHDR" or length != 13:
                raise ValueError("no IHDR")
            width, height, depth, colour, _, _, interlace = struct.unpack(">IIBBBBB", data)
            if colour not in _PNG_CHANNELS or width == 0 or height == 0:
                raise ValueError("bad IHDR")
            if width * height > MAX_PIXELS:
                raise _Unsafe("pixels")
            header = (width, height, depth * _PNG_CHANNELS[colour], colour, interlace)
        elif kind == b"IDAT":
            idat.append(data)
        elif kind == b"IEND":
            break
        pos = end
    if end != len(content):
        raise _Unsafe("data after IEND")
    width, height, bits, _, interlace = header
    expected = _png_raw_size(width, height, bits, interlace == 1)
    inflated = _inflated_size(b"".join(idat), expected)
    if inflated > expected:
        raise _Unsafe("IDAT inflates beyond the declared image")
    if inflated < expected:
        raise ValueError("IDAT shorter than the declared image")


def _jpeg_pixels(content: bytes) -> int:
    i = 2
    while i + 9 < len(content):
        if content[i] != 0xFF:
            i += 1
            continue
        marker = content[i + 1]
        if marker in (0xC0, 0xC1, 0xC2, 0xC3, 0xC5, 0xC6, 0xC7, 0xC9, 0xCA, 0xCB, 0xCD, 0xCE, 0xCF):
            height, width = struct.unpack(">HH", content[i + 5 : i + 9])
            return width * height
        if marker in (0xD8, 0x01) or 0xD0 <= marker <= 0xD7:
            i += 2
            continue
        (length,) = struct.unpack(">H", content[i + 2 : i + 4])
        i += 2 + length
    raise ValueError("no frame header")


def _pdf_streams(content: bytes) -> tuple[bytes, list[tuple[bytes, bytes]]]:
    """The PDF without its stream bodies, and (dictionary, body) of every stream."""
    outside: list[bytes] = []
    streams: list[tuple[bytes, bytes]] = []
    pos = 0
    for match in _PDF_STREAM.finditer(content):
        if match.start() < pos:
            continue
        end = content.find(b"endstream", match.end())
        if end < 0:
            break
        before = content[pos : match.start()]
        outside.append(before)
        streams.append((before[-512:], content[match.end() : end]))
        pos = end + len(b"endstream")
    outside.append(content[pos:])
    return b"".join(outside), streams


def _pdf_active(text: bytes) -> bool:
    return bool(_PDF_ACTIVE.search(_PDF_NAME_ESCAPE.sub(lambda m: bytes([int(m.group(1), 16)]), text)))


def _pdf_nesting(text: bytes) -> int:
    depth = deepest = 0
    for token in _PDF_NESTING_TOKEN.finditer(_PDF_STRING.sub(b"()", text)):
        depth += 1 if token.group() in (b"<<", b"[") else -1
        deepest = max(deepest, depth)
    return deepest


def _check_pdf(content: bytes) -> None:
    outside, streams = _pdf_streams(content)
    if _pdf_active(outside):
        raise _Unsafe("active content")
    if _pdf_nesting(outside) > MAX_PDF_NESTING:
        raise _Unsafe("nesting")
    budget = MAX_PDF_INFLATED
    for dictionary, body in streams:
        if b"Flate" not in dictionary and b"/Fl" not in dictionary:
            continue
        if not _ZLIB_HEADER.match(body):
            continue  # not really Flate: a viewer shows nothing, and nothing inflates
        if b"ObjStm" in dictionary:  # compressed objects: where actions hide from a plain scan
            try:
                objects = zlib.decompressobj().decompress(body, min(budget, 16 * _CHUNK) + 1)
            except zlib.error:
                raise ValueError("damaged object stream") from None
            if len(objects) > 16 * _CHUNK:
                raise _Unsafe("object stream too large")
            if _pdf_active(objects):
                raise _Unsafe("active content in an object stream")
            if _pdf_nesting(objects) > MAX_PDF_NESTING:
                raise _Unsafe("nesting")
            budget -= len(objects)
            continue
        try:
            budget -= _inflated_size(body, budget)
        except zlib.error:
            continue  # a damaged stream: viewers skip it
        if budget < 0:
            raise _Unsafe("streams inflate beyond the limit")


def check_upload(content: bytes, field: str = "file") -> str:
    """Return the sniffed media type, or raise a 4xx problem saying what is wrong."""
    if len(content) > MAX_BYTES:
        raise ProblemError(
            413,
            "material_too_large",
            f"文件超过 {MAX_BYTES // (1024 * 1024)} MB。 The file is larger than allowed.",
            field=field,
        )
    if not content:
        raise ProblemError(422, "empty_material", "文件为空。 The file is empty.", field=field)
    media_type = sniff(content)
    if media_type is None:
        raise ProblemError(
            415,
            "unsupported_material",
            "仅支持 PDF、JPEG、PNG 文件。 Only PDF, JPEG and PNG files are accepted.",
            field=field,
        )
    if _MARKUP.search(content):
        raise ProblemError(
            422,
            "unsafe_material",
            "文件中含有网页或脚本内容，请重新导出后上传。 The file carries markup or script.",
            field=field,
        )
    try:
        if media_type == "image/png":
            _check_png(content)
        elif media_type == "image/jpeg" and _jpeg_pixels(content) > MAX_PIXELS:
            raise _Unsafe("pixels")
        elif media_type == "application/pdf":
            if b"%%EOF" not in content[-2048:]:
                raise ProblemError(422, "unsupported_material", "PDF 文件不完整。 The PDF is incomplete.", field=field)
            _check_pdf(content)
    except _Unsafe:
        if media_type == "application/pdf":
            raise ProblemError(
                422,
                "unsafe_material",
                "PDF 含有脚本、嵌入内容或异常结构，请重新导出后上传。 The PDF contains active content or an abnormal structure.",
                field=field,
            ) from None
        raise ProblemError(
            422,
            "unsafe_material",
            "图片尺寸或数据异常。 The image's dimensions or data are not plausible.",
            field=field,
        ) from None
    except (ValueError, struct.error, zlib.error):
        raise ProblemError(422, "unsupported_material", "文件已损坏。 The file is damaged.", field=field) from None
    return media_type
