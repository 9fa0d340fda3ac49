"""Uploaded materials are judged by their content, never by their name or declared type.

Accepted: PDF, JPEG and PNG (what phones and scanners produce), at most ``MAX_BYTES``.
Refused with a problem naming the field: unknown or mismatched content (``unsupported_material``),
oversize (``material_too_large``), images whose header declares an absurd pixel count
(decompression bombs) and PDFs carrying scripts, launch actions or embedded files
(``unsafe_material``).
"""

from __future__ import annotations

import re
import struct

from backend.lib.problems import ProblemError

MAX_BYTES = 10 * 1024 * 1024
MAX_PIXELS = 50_000_000
_PDF_ACTIVE = re.compile(rb"/(JavaScript|JS|Launch|EmbeddedFile|RichMedia|XFA|OpenAction)\b")


def sniff(content: bytes) -> str | None:
    """The media type the bytes really are (of those we accept), or None."""
    if content.startswith(b"%PDF-"):
        return "application/pdf"
    if content.startswith(b"\xff\xd8\xff"):
        return "image/jpeg"
    if content.startswith(b"\x89PNG\r\n\x1a\n"):
        return "image/png"
    return None


def _png_pixels(content: bytes) -> int:
    if len(content) < 24 or content[12:16] != b"IHDR":
        raise ValueError("no IHDR")
    width, height = struct.unpack(">II", content[16:24])
    return width * height


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


def check_upload(content: bytes, field: str = "file") -> str:
    """Return the sniffed media type, or raise a 4xx problem saying what is wrong."""
    if len(content) > MAX_BYTES:
        raise ProblemError(413, "material_too_large", f"文件超过 {MAX_BYTES // (1024 * 1024)} MB。 The file is larger than allowed.", field=field)
    if not content:
        raise ProblemError(422, "empty_material", "文件为空。 The file is empty.", field=field)
    media_type = sniff(content)
    if media_type is None:
        raise ProblemError(415, "unsupported_material", "仅支持 PDF、JPEG、PNG 文件。 Only PDF, JPEG and PNG files are accepted.", field=field)
    try:
        if media_type == "image/png" and _png_pixels(content) > MAX_PIXELS:
            raise ProblemError(422, "unsafe_material", "图片尺寸异常。 The image's dimensions are not plausible.", field=field)
        if media_type == "image/jpeg" and _jpeg_pixels(content) > MAX_PIXELS:
            raise ProblemError(422, "unsafe_material", "图片尺寸异常。 The image's dimensions are not plausible.", field=field)
    except (ValueError, struct.error):
        raise ProblemError(422, "unsupported_material", "图片文件已损坏。 The image file is damaged.", field=field) from None
    if media_type == "application/pdf":
        if _PDF_ACTIVE.search(content):
            raise ProblemError(422, "unsafe_material", "PDF 含有脚本或嵌入内容，请重新导出后上传。 The PDF contains active content.", field=field)
        if b"%%EOF" not in content[-2048:]:
            raise ProblemError(422, "unsupported_material", "PDF 文件不完整。 The PDF is incomplete.", field=field)
    return media_type
