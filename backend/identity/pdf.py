"""Documents people sign (申请书, 通知书): text lines on A4, written as PDF/A-2b with embedded fonts.

What a signer sees must be exactly the text they sign, so every character is drawn from a font
embedded in the file (a subset: only the glyphs used), laid out with that font's own advance
widths, and mapped back to Unicode (``ToUnicode``) so that copying or ``pdftotext`` gives the
text back, characters outside the Basic Multilingual Plane (生僻字 in names, such as 𠮷)
included. Fonts come from Debian packages, tried in order for each character:

- WenQuanYi Micro Hei (``fonts-wqy-microhei``): Latin, digits, CJK punctuation, the common
  ideographs;
- HanaMin A and B (``fonts-hanazono``): CJK Extension A, and Extensions B to F (plane 2).

HarfBuzz (hb-subset) subsets each font and fontTools reads its metrics; pikepdf (qpdf) writes
the document and saves it as PDF/A-2b (validated by the tests). Output is deterministic (no
clock, IDs derived from the content): the same title and lines always give the same bytes and
therefore the same SHA-256, which is what signers sign.
"""

from __future__ import annotations

import functools
import hashlib
import io
import re
import string
from dataclasses import dataclass
from pathlib import Path

import pikepdf
import pikepdf.pdfa
import uharfbuzz as hb
from fontTools.ttLib import TTFont

from backend.lib.problems import ProblemError

PAGE_WIDTH, PAGE_HEIGHT = 595, 842  # A4 in points
MARGIN = 56
FONT_DIR = Path("/usr/share/fonts/truetype")
# (file, index in a collection): the first that has a character draws it
FONTS: tuple[tuple[Path, int], ...] = (
    (FONT_DIR / "wqy" / "wqy-microhei.ttc", 0),
    (FONT_DIR / "hanazono" / "HanaMinA.ttf", 0),
    (FONT_DIR / "hanazono" / "HanaMinB.ttf", 0),
)
# A fixed date (the documents carry the case's own dates in their text): the bytes must not
# depend on when they were made.
_FIXED_DATE = "D:20260101000000+08'00'"
_XMP_DATE = b"<xmp:MetadataDate>2026-01-01T00:00:00+08:00</xmp:MetadataDate>"
# What PDF/A-2b allows (no encryption, object streams as qpdf makes them, the version kept), with IDs
# derived from the content. The file is not validated here: pikepdf's validator counts any warning
# raised in the process while it parses (another thread's, or the garbage collector's) as a
# violation, which failed signings at random; tests/identity/test_pdf.py and finding 15 validate.
_SAVE_2B = pikepdf.pdfa.resolve_save_kwargs("2b", deterministic_id=True)
_WORD = re.compile(r"[A-Za-z0-9_.,:;@/\\\-+%#&()'\"!?]+| +|.", re.S)


@dataclass(frozen=True)
class _FontInfo:
    """What layout needs from one font file: its characters and advances, in 1/1000 em."""

    path: Path
    index: int
    name: str
    cmap: dict[int, str]
    advance: dict[str, float]
    bbox: tuple[int, int, int, int]
    ascent: int
    descent: int
    cap_height: int


@functools.cache
def _font(number: int) -> _FontInfo:
    path, index = FONTS[number]
    if not path.exists():
        raise RuntimeError(f"font {path} is missing: install the Debian packages named in backend/identity/pdf.py")
    font = TTFont(path, fontNumber=index, lazy=True)
    scale = 1000 / font["head"].unitsPerEm
    hmtx = font["hmtx"].metrics
    head, hhea, os2 = font["head"], font["hhea"], font.get("OS/2")
    cap = getattr(os2, "sCapHeight", 0) if os2 is not None else 0
    return _FontInfo(
        path=path,
        index=index,
        name=re.sub(r"[^A-Za-z0-9-]", "", font["name"].getDebugName(6) or path.stem),
        cmap=dict(font.getBestCmap()),
        advance={glyph: aw * scale for glyph, (aw, _) in hmtx.items()},
        bbox=tuple(round(v * scale) for v in (head.xMin, head.yMin, head.xMax, head.yMax)),
        ascent=round(hhea.ascent * scale),
        descent=round(hhea.descent * scale),
        cap_height=round((cap or hhea.ascent * 0.7) * scale),
    )


def _font_for(ch: str) -> int:
    """Index in FONTS of the first font that has ``ch``."""
    code = ord(ch)
    for number in range(len(FONTS)):
        if code in _font(number).cmap:
            return number
    raise ProblemError(
        422,
        "unprintable_character",
        f"文书中有无法显示的字符“{ch}”（U+{code:04X}），请核对后重试。 The document has a character no font can show.",
    )


def _width(ch: str, size: float) -> float:
    font = _font(_font_for(ch))
    return font.advance[font.cmap[ord(ch)]] * size / 1000


def _wrap(text: str, size: float, width: float) -> list[str]:
    """Break a line to fit ``width``: between words of Latin script, anywhere between ideographs."""
    lines: list[str] = []
    current, used = "", 0.0

    def flush() -> None:
        nonlocal current, used
        lines.append(current.rstrip(" "))
        current, used = "", 0.0

    for token in _WORD.findall(text):
        advance = sum(_width(ch, size) for ch in token)
        if used + advance <= width:
            current, used = current + token, used + advance
        elif token.isspace():
            flush()  # the line breaks here, and the spaces go
        elif advance <= width:
            flush()
            current, used = token, advance
        else:  # a word longer than a line is broken anywhere
            for ch in token:
                w = _width(ch, size)
                if used + w > width and current:
                    flush()
                current, used = current + ch, used + w
    lines.append(current.rstrip(" "))
    return lines


def _paginate(title: str, lines: list[str], size: float, title_size: float) -> list[list[tuple[float, str]]]:
    usable = PAGE_WIDTH - 2 * MARGIN
    wrapped = [(title_size, t) for t in _wrap(title, title_size, usable)] + [(size, "")]
    for line in lines:
        wrapped += [(size, part) for part in _wrap(line, size, usable)]
    pages: list[list[tuple[float, str]]] = [[]]
    y: float = PAGE_HEIGHT - MARGIN
    for font_size, text in wrapped:
        step = font_size * 1.6
        if y - step < MARGIN:
            pages.append([])
            y = PAGE_HEIGHT - MARGIN
        pages[-1].append((font_size, text))
        y -= step
    return pages


def _runs(text: str) -> list[tuple[int, str]]:
    """Consecutive characters drawn by the same font."""
    runs: list[tuple[int, str]] = []
    for ch in text:
        number = _font_for(ch)
        if runs and runs[-1][0] == number:
            runs[-1] = (number, runs[-1][1] + ch)
        else:
            runs.append((number, ch))
    return runs


def _subset_tag(glyphs: list[str]) -> str:
    """The six capital letters before a subset font's name, derived from the glyphs it keeps."""
    digest = hashlib.sha256("\n".join(glyphs).encode()).digest()
    return "".join(string.ascii_uppercase[b % 26] for b in digest[:6])


def _to_unicode(cids: dict[int, str]) -> bytes:
    """A ToUnicode CMap: each CID to its character in UTF-16BE (surrogate pairs beyond the BMP)."""
    entries = [f"<{cid:04X}> <{ch.encode('utf-16-be').hex().upper()}>" for cid, ch in sorted(cids.items())]
    blocks = []
    for start in range(0, len(entries), 100):
        chunk = entries[start : start + 100]
        blocks.append(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar")
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo << /Registry (Adobe) /Ordering (UCS) /Supplement 0 >> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <FFFF>\nendcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")


# A PDF positions every glyph itself: no shaping tables, and no FontForge timestamps (FFTM); glyph
# names go too, by leaving out HarfBuzz's GLYPH_NAMES flag
_UNUSED_TABLES = ("FFTM", "GSUB", "GPOS", "GDEF", "BASE", "JSTF", "MATH", "morx", "kern", "vhea", "vmtx")


@functools.cache
def _face(number: int) -> hb.Face:
    """Font ``number`` as HarfBuzz reads it, kept for the process (faces are safe across threads)."""
    path, index = FONTS[number]
    return hb.Face(hb.Blob.from_file_path(path), index)


def _subset(number: int, chars: set[str]) -> bytes:
    """A TrueType subset of font ``number`` with ``chars``: HarfBuzz's hb-subset, in well under a
    millisecond, where fontTools' subsetter decoded the CJK font's 30,000 glyphs each time (0.4 s)."""
    request = hb.SubsetInput()
    request.unicode_set.update(ord(c) for c in chars)
    request.drop_table_tag_set.update(int.from_bytes(tag.encode(), "big") for tag in _UNUSED_TABLES)
    request.flags = hb.SubsetFlags.NOTDEF_OUTLINE | hb.SubsetFlags.NO_HINTING
    subset = hb.subset(_face(number), request)
    if subset is None:
        raise RuntimeError(f"HarfBuzz could not subset {FONTS[number][0]}")
    return bytes(subset.blob.data)


def _embed(pdf: pikepdf.Pdf, number: int, chars: set[str]) -> tuple[pikepdf.Dictionary, dict[str, int]]:
    """A Type 0 font embedding a subset of font ``number`` with ``chars``; and each char's CID."""
    info = _font(number)
    program = _subset(number, chars)  # the same characters always give the same bytes
    font = TTFont(io.BytesIO(program), recalcTimestamp=False)
    order = font.getGlyphOrder()
    cmap = font.getBestCmap()
    cid_of = {ch: font.getGlyphID(cmap[ord(ch)]) for ch in chars}
    scale = 1000 / font["head"].unitsPerEm
    widths = pikepdf.Array()
    for gid, glyph in enumerate(order):
        widths.append(gid)
        widths.append(pikepdf.Array([round(font["hmtx"][glyph][0] * scale, 3)]))
    base = pikepdf.Name("/" + _subset_tag(order) + "+" + info.name)
    descriptor = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.FontDescriptor,
            FontName=base,
            Flags=4,  # symbolic: glyphs are addressed by CID, not a standard encoding
            FontBBox=pikepdf.Array(list(info.bbox)),
            ItalicAngle=0,
            Ascent=info.ascent,
            Descent=info.descent,
            CapHeight=info.cap_height,
            StemV=80,
            FontFile2=pdf.make_stream(program),
        )
    )
    descendant = pdf.make_indirect(
        pikepdf.Dictionary(
            Type=pikepdf.Name.Font,
            Subtype=pikepdf.Name.CIDFontType2,
            BaseFont=base,
            CIDSystemInfo=pikepdf.Dictionary(
                Registry=pikepdf.String("Adobe"), Ordering=pikepdf.String("Identity"), Supplement=0
            ),
            FontDescriptor=descriptor,
            W=widths,
            CIDToGIDMap=pikepdf.Name.Identity,
        )
    )
    type0 = pikepdf.Dictionary(
        Type=pikepdf.Name.Font,
        Subtype=pikepdf.Name.Type0,
        BaseFont=base,
        Encoding=pikepdf.Name("/Identity-H"),
        DescendantFonts=pikepdf.Array([descendant]),
        ToUnicode=pdf.make_stream(_to_unicode({cid: ch for ch, cid in cid_of.items()})),
    )
    return pdf.make_indirect(type0), cid_of


def render_pdf(title: str, lines: list[str], *, size: float = 11, title_size: float = 16) -> bytes:
    """A PDF/A-2b document with ``title`` and ``lines`` of text, wrapped and paginated on A4."""
    pages = _paginate(title, lines, size, title_size)
    used: dict[int, set[str]] = {}
    for page in pages:
        for _, text in page:
            for number, run in _runs(text):
                used.setdefault(number, set()).update(run)

    pdf = pikepdf.new()
    fonts: dict[int, tuple[pikepdf.Dictionary, dict[str, int]]] = {
        number: _embed(pdf, number, chars) for number, chars in sorted(used.items())
    }
    resources = pikepdf.Dictionary(
        Font=pikepdf.Dictionary({f"/F{number}": font for number, (font, _) in fonts.items()})
    )
    for page in pages:
        ops: list[str] = []
        y: float = PAGE_HEIGHT - MARGIN
        for font_size, text in page:
            y -= font_size * 1.6
            if not text:
                continue
            ops.append(f"BT {MARGIN} {y:.2f} Td")
            for number, run in _runs(text):
                cid_of = fonts[number][1]
                hexed = "".join(f"{cid_of[ch]:04X}" for ch in run)
                ops.append(f"/F{number} {font_size:g} Tf <{hexed}> Tj")
            ops.append("ET")
        content = pdf.make_stream("\n".join(ops).encode("ascii"))
        pdf.pages.append(
            pikepdf.Page(
                pikepdf.Dictionary(
                    Type=pikepdf.Name.Page,
                    MediaBox=pikepdf.Array([0, 0, PAGE_WIDTH, PAGE_HEIGHT]),
                    Resources=resources,
                    Contents=content,
                )
            )
        )
    with pdf.open_metadata(set_pikepdf_as_editor=False, update_docinfo=False) as meta:
        meta["dc:title"] = title
    pdf.docinfo["/Title"] = pikepdf.String(title)
    pdf.docinfo["/CreationDate"] = pikepdf.String(_FIXED_DATE)
    pdf.docinfo["/ModDate"] = pikepdf.String(_FIXED_DATE)
    pikepdf.pdfa.prepare(pdf, "2b")  # XMP identification, sRGB output intent
    # pikepdf stamps the metadata with the time it was edited; the bytes must not carry a clock
    xmp = pdf.Root.Metadata.read_bytes()
    xmp = re.sub(rb"<xmp:MetadataDate>[^<]*</xmp:MetadataDate>", _XMP_DATE, xmp)
    pdf.Root.Metadata.write(xmp)
    out = io.BytesIO()
    pdf.save(out, **_SAVE_2B)
    return out.getvalue()
