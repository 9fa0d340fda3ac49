"""Uploaded materials are judged by their content, never by their name or declared type.

Accepted: PDF, JPEG and PNG (what phones and scanners produce), at most ``MAX_BYTES``.
Refused with a problem naming the field:

- unknown or mismatched content, damaged files (``unsupported_material``, 415 / 422);
- oversize (``material_too_large``, 413);
- ``encrypted_material`` (422): encrypted PDFs, with or without a password to open them;
- ``unsafe_material`` (422): images whose header declares an absurd pixel count, PNGs whose
  compressed pixels inflate to more than the header declares (deflate bombs) or that carry
  data after their end, PDFs carrying JavaScript (document names, open actions, annotations'
  and additional actions), launch, submit, import or remote go-to actions, embedded files,
  XFA forms or rich media, PDFs whose compressed streams inflate beyond ``MAX_PDF_INFLATED``
  (PDF bombs), whose objects nest deeper than ``MAX_PDF_NESTING`` or that have more than
  ``MAX_PDF_PAGES`` pages, and files with markup a browser would run (HTML, SVG, script:
  polyglots).

PDFs are read with qpdf (through pikepdf), as a viewer would read them: names are unescaped,
compressed object streams unpacked (also those no cross-reference names), and harmless open
actions (a page and a zoom) pass. Decompression is always bounded: a PNG's pixel data is
inflated (in chunks, output counted and dropped) only up to what its checked header declares,
and a PDF's streams only up to ``MAX_PDF_INFLATED`` in total, before qpdf unpacks anything;
qpdf's own decoding is capped by its global limits. The platform never decodes images or
renders PDFs itself; the checks protect the people and systems that open the materials later.
"""

from __future__ import annotations

import functools
import io
import re
import struct
import zlib

import pikepdf

from backend.lib.problems import ProblemError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000
# All Flate streams of one PDF together. Inflating costs CPU (roughly 1 s per 100 MB on a busy
# core), so the bound is also what a bomb may cost; scanners store pages as JPEG, CCITT or JBIG2,
# and four A4 pages of 300 dpi colour in Flate (about 100 MB) still pass.
MAX_PDF_INFLATED = 128 * 1024 * 1024
MAX_PDF_NESTING = 64
# qpdf decodes only cross-reference and object streams itself (a few KB in real files); page
# images are counted here without it.
_QPDF_DECODE_LIMIT = 16 * 1024 * 1024
_CHUNK = 1024 * 1024

_PDF_REFERENCE = re.compile(rb"\b\d+\s+\d+\s+R\b")
_MARKUP = re.compile(rb"<\s*(?:script|html|svg|iframe|object|embed|body)\b|<\?php|javascript:", re.I)

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


# Actions that run code, leave the document or send data somewhere (``/S`` of an action
# dictionary). GoTo, URI and named actions, and plain destinations, are harmless.
_UNSAFE_ACTIONS = frozenset(
    {"/JavaScript", "/Launch", "/SubmitForm", "/ImportData", "/GoToE", "/GoToR", "/RichMediaExecute"}
)
# Keys that carry script, embedded files, XFA forms or rich media wherever they appear.
_UNSAFE_KEYS = frozenset({"/JS", "/JavaScript", "/EmbeddedFiles", "/EF", "/XFA", "/RichMediaContent"})
_UNSAFE_TYPES = frozenset({"/EmbeddedFile", "/FileAttachment", "/RichMedia", "/3D"})
MAX_PDF_PAGES = 2000


class _Encrypted(Exception):
    """The PDF is encrypted (password or not): nobody downstream can judge or archive it."""


@functools.cache
def _qpdf_limits() -> None:
    """Bound what qpdf itself decodes (cross-reference and object streams) and how deep it parses.

    The limits are process-wide; nothing else here needs more, and they are set before the first
    upload is opened rather than at import.
    """
    pikepdf.settings.set_qpdf_limits(
        flate_max_memory=_QPDF_DECODE_LIMIT,
        run_length_max_memory=_QPDF_DECODE_LIMIT,
        parser_max_nesting=MAX_PDF_NESTING,
    )


def _stream_cost(stream: pikepdf.Stream, budget: int) -> int:
    """Bytes the stream decodes to, counted without keeping them; ``budget + 1`` when larger."""
    filters = stream.get("/Filter")
    names = [str(f) for f in filters] if isinstance(filters, pikepdf.Array) else [str(filters)] if filters else []
    raw = stream.read_raw_bytes()
    if names[:1] == ["/FlateDecode"]:
        try:
            return _inflated_size(raw, budget)
        except zlib.error:
            return len(raw)  # damaged: a viewer shows nothing, and nothing inflates
    return len(raw)


def _object_stream_members(stream: pikepdf.Stream) -> list[pikepdf.Object]:
    """The objects packed in an object stream that no cross-reference names, parsed by qpdf.

    qpdf ignores such a stream, but a viewer that rebuilds a damaged file's cross-references may
    find them, so they are judged too.
    """
    data = stream.read_bytes()  # bounded by qpdf's flate limit, and already counted in the budget
    try:
        count, first = int(stream.get("/N", 0)), int(stream.get("/First", 0))
        header = data[:first].split()
        offsets = sorted(int(header[i + 1]) for i in range(0, min(len(header) - 1, 2 * count), 2))
    except (TypeError, ValueError, IndexError):
        raise ValueError("damaged object stream header") from None
    members = []
    for at, until in zip(offsets, [*offsets[1:], len(data) - first], strict=True):
        # qpdf parses a lone object only without references; the objects they point to are
        # judged on their own, so each reference becomes null here
        text = _PDF_REFERENCE.sub(b" null ", data[first + at : first + until])
        members.append(pikepdf.Object.parse(text))
    return members


def _dangerous(obj: pikepdf.Object) -> bool:
    """Whether this object, or anything nested in it directly, is script, an action or an attachment."""
    stack = [obj]
    while stack:
        item = stack.pop()
        if isinstance(item, pikepdf.Stream):
            item = item.stream_dict
        if isinstance(item, pikepdf.Dictionary):
            keys = set(item.keys())
            if keys & _UNSAFE_KEYS:
                return True
            if str(item.get("/S", "")) in _UNSAFE_ACTIONS:
                return True
            if str(item.get("/Type", "")) in _UNSAFE_TYPES or str(item.get("/Subtype", "")) in _UNSAFE_TYPES:
                return True
            children = item.values()
        elif isinstance(item, pikepdf.Array):
            children = list(item)
        else:
            continue
        # indirect children are walked as objects of their own
        stack.extend(child for child in children if isinstance(child, pikepdf.Object) and not child.is_indirect)
    return False


def _check_pdf(content: bytes) -> None:
    """Judge a PDF as qpdf reads it: no encryption, no active content, bounded streams and pages.

    Every stream is counted against ``MAX_PDF_INFLATED`` (Flate inflated in chunks and dropped)
    before any compressed object is unpacked, then every object, packed ones included, is walked.
    """
    _qpdf_limits()
    limit_errors = pikepdf.settings.qpdf_limit_errors()
    try:
        pdf = pikepdf.open(io.BytesIO(content))
    except pikepdf.PasswordError:
        raise _Encrypted from None
    except pikepdf.PdfError as error:
        if pikepdf.settings.qpdf_limit_errors() != limit_errors:
            raise _Unsafe("a qpdf limit while opening") from None
        raise ValueError(f"not a readable PDF: {error}") from None
    with pdf:
        if pdf.is_encrypted or "/Encrypt" in pdf.trailer:
            raise _Encrypted
        budget = MAX_PDF_INFLATED
        packed: list[pikepdf.Stream] = []
        xref = pdf.get_xref_table()
        known_object_streams = {entry.obj_stream_number for entry in xref.values() if entry.type == 2}
        for (number, generation), entry in xref.items():
            if entry.type != 1:
                continue  # free, or packed in an object stream (counted with that stream)
            obj = pdf.get_object(number, generation)
            if isinstance(obj, pikepdf.Stream):
                budget -= _stream_cost(obj, budget)
                if budget < 0:
                    raise _Unsafe("streams inflate beyond the limit")
                if str(obj.get("/Type", "")) == "/ObjStm" and number not in known_object_streams:
                    packed.append(obj)
        try:
            objects = list(pdf.objects)
            for stream in packed:
                objects += _object_stream_members(stream)
        except pikepdf.PdfError as error:
            raise ValueError(f"damaged objects: {error}") from None
        if pikepdf.settings.qpdf_limit_errors() != limit_errors:
            raise _Unsafe("nesting or a decoding limit")
        if any(_dangerous(obj) for obj in [pdf.trailer, *objects]):
            raise _Unsafe("active content")
        if len(pdf.pages) > MAX_PDF_PAGES:
            raise _Unsafe("pages")


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
    except _Encrypted:
        raise ProblemError(
            422,
            "encrypted_material",
            "PDF 已加密，请上传未加密的文件。 The PDF is encrypted; upload it without encryption.",
            field=field,
        ) from None
    except _Unsafe:
        if media_type == "application/pdf":
            raise ProblemError(
                422,
                "unsafe_material",
                "PDF 含有脚本、嵌入内容或异常结构，请重新导出后上传。 "
                "The PDF contains active content or an abnormal structure.",
                field=field,
            ) from None
        raise ProblemError(
            422,
            "unsafe_material",
            "图片尺寸或数据异常。 The image's dimensions or data are not plausible.",
            field=field,
        ) from None
    except (ValueError, struct.error, zlib.error, pikepdf.PdfError):
        raise ProblemError(422, "unsupported_material", "文件已损坏。 The file is damaged.", field=field) from None
    return media_type
