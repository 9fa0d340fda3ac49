"""Finding 15: the application PDF people sign did not show the text they sign.

``identity/pdf.py`` embedded no font and had no width table: Latin letters and digits were
spaced one em apart, mixed lines ran off the page, and characters outside the Basic
Multilingual Plane (生僻字 in names, such as 𠮷) became "?". The document is now laid out with
the metrics of fonts it embeds. Here poppler (what many viewers use) renders every page, every
word's box lies inside the page's text area, and ``pdftotext`` gives back exactly the text
signed, 生僻字 included; the same input gives the same bytes, as a PDF/A-2b file.
"""

from __future__ import annotations

import hashlib
import io
import re
import subprocess
from pathlib import Path
from xml.etree import ElementTree

import pikepdf
import pikepdf.pdfa
import pytest

from backend.identity import render_pdf
from backend.identity.pdf import MARGIN, PAGE_HEIGHT, PAGE_WIDTH
from tests.cases.support import BASE_ANSWERS, form_from_examples
from tests.security.support import OTHER_USCC, bearer, session_token

TITLE = "企业注销登记申请书（福州𠮷祥𪚥鑫贸易有限公司）"
LINES = [
    "统一社会信用代码：91350102MA0102003U",
    "法定代表人：吉田𠮷 Yoshida Taro身份证号 350102199001011234 手机 13800000000",
    "清算组成员：𡎚𬌗 Chen、林𪨧𫟼 Lin Wei-Ming、Zhang San 张三、O'Brien-Smith Catherine 凯瑟琳",
    "经营范围：软件开发；信息技术咨询服务；Import and export of goods and technology, except items"
    " prohibited by the State；货物进出口（依法须经批准的项目，经相关部门批准后方可开展经营活动）",
    "债权债务清理情况：" + "已清理完毕，" * 30,
    "https://zwfw.fujian.gov.cn/deregistration/cases/" + "A1B2C3D4E5" * 12,
    "0123456789" * 12,
    *[f"第{i}条 股东 𠮷野家 Investor No.{i} 认缴出资额 {i * 1000} 万元" for i in range(1, 60)],
]

# The suite's platform binds the tables its autouse fixture restores; the last test uses it too.
pytestmark = pytest.mark.usefixtures("live")


def _run(*command: str, input_pdf: bytes, cwd: Path) -> str:
    path = cwd / "document.pdf"
    path.write_bytes(input_pdf)
    done = subprocess.run([*command, str(path), *(["-"] if command[0] == "pdftotext" else [str(cwd / "page")])],
                          capture_output=True, cwd=cwd, timeout=120, check=False)  # fmt: skip
    assert done.returncode == 0, done.stderr.decode()
    assert b"Error" not in done.stderr, done.stderr.decode()
    # poppler writes the document title of -bbox's header as CESU-8 when it is beyond the BMP
    return done.stdout.decode("utf-8", "replace")


@pytest.fixture(scope="module")
def document() -> bytes:
    return render_pdf(TITLE, LINES)


def test_finding15_every_page_renders_and_no_word_leaves_the_text_area(document, tmp_path):
    pages = len(pikepdf.open(io.BytesIO(document)).pages)
    assert pages >= 2  # pagination is exercised too
    _run("pdftoppm", "-r", "50", "-gray", input_pdf=document, cwd=tmp_path)
    assert len(list(tmp_path.glob("page-*.pgm"))) == pages

    html = _run("pdftotext", "-bbox", input_pdf=document, cwd=tmp_path)
    tree = ElementTree.fromstring(re.sub(r"<!DOCTYPE[^>]*>", "", html))
    boxes = [
        (page, word)
        for page in tree.iter()
        if page.tag.endswith("}page")
        for word in page.iter()
        if word.tag.endswith("}word")
    ]
    assert len({id(page) for page, _ in boxes}) == pages
    for page, word in boxes:
        assert float(page.get("width")) == PAGE_WIDTH and float(page.get("height")) == PAGE_HEIGHT
        x_min, x_max = float(word.get("xMin")), float(word.get("xMax"))
        y_min, y_max = float(word.get("yMin")), float(word.get("yMax"))
        assert MARGIN - 0.5 <= x_min < x_max <= PAGE_WIDTH - MARGIN + 0.5, (word.text, x_min, x_max)
        assert 0 < y_min < y_max < PAGE_HEIGHT - MARGIN / 2, (word.text, y_min, y_max)

    # digits and Latin letters take their own widths, not an em each
    number = next(w for _, w in boxes if w.text == "350102199001011234")
    assert float(number.get("xMax")) - float(number.get("xMin")) < 18 * 11 * 0.65


def test_finding15_pdftotext_gives_back_the_signed_text_rare_characters_included(document, tmp_path):
    text = _run("pdftotext", "-enc", "UTF-8", input_pdf=document, cwd=tmp_path)
    assert "?" not in text and "\ufffd" not in text
    for rare in "𠮷𪚥𡎚𬌗𪨧𫟼":
        assert rare in text, rare

    def squeezed(s: str) -> str:  # line breaks may fall between words, where a space was
        return re.sub(r"\s+", "", s)

    assert squeezed(text) == squeezed("".join([TITLE, *LINES]))


def test_finding15_fonts_are_embedded_subsets_and_the_file_is_pdf_a_2b(document, tmp_path):
    path = tmp_path / "document.pdf"
    path.write_bytes(document)
    fonts = subprocess.run(["pdffonts", str(path)], capture_output=True, check=True, timeout=60).stdout.decode()
    rows = fonts.splitlines()[2:]
    assert rows, fonts
    for row in rows:
        # name, type (two words), encoding, then emb sub uni: all yes
        assert re.match(r"^[A-Z]{6}\+\S+\s+CID TrueType\s+Identity-H\s+yes\s+yes\s+yes\s", row), fonts
    with pikepdf.open(io.BytesIO(document)) as pdf:
        report = pikepdf.pdfa.check(pdf, "2b")
        assert report.passed, report.summary()
        with pdf.open_metadata() as meta:
            assert meta.pdfa_status == "2B" and meta["dc:title"] == TITLE
        assert str(pdf.docinfo["/Title"]) == TITLE


def test_finding15_the_same_input_gives_the_same_bytes(document):
    again = render_pdf(TITLE, LINES)
    assert hashlib.sha256(again).hexdigest() == hashlib.sha256(document).hexdigest()
    assert render_pdf(TITLE, [*LINES[:-1], LINES[-1] + "。"]) != document


async def test_finding15_the_application_a_signer_downloads_is_that_document(live, tmp_path):
    """Through the platform: the PDF sent to signers embeds its fonts and reads back as the enterprise."""
    auth = bearer(await session_token(live.client, "applicant-p002"))
    created = await live.client.post("/api/v1/cases", json={"uscc": OTHER_USCC}, headers=auth)
    assert created.status_code == 201, created.text
    view = created.json()
    view = (
        await live.client.patch(
            f"/api/v1/cases/{view['id']}", json={"answers": BASE_ANSWERS, "version": view["version"]}, headers=auth
        )
    ).json()
    form = form_from_examples(view["plan"], view["form_data"])
    response = await live.client.patch(
        f"/api/v1/cases/{view['id']}", json={"form_data": form, "version": view["version"]}, headers=auth
    )
    assert response.status_code == 200, response.text
    signing = await live.client.post(f"/api/v1/cases/{view['id']}/signatures", headers=auth)
    assert signing.status_code == 201, signing.text
    downloaded = await live.client.get(f"/api/v1/signing-documents/{signing.json()['document_id']}", headers=auth)
    assert downloaded.status_code == 200, downloaded.text
    pdf = downloaded.content
    assert downloaded.headers["X-Content-SHA256"] == hashlib.sha256(pdf).hexdigest() == signing.json()["sha256"]
    text = _run("pdftotext", "-enc", "UTF-8", input_pdf=pdf, cwd=tmp_path)
    assert "福州榕鑫贸易有限公司" in text and OTHER_USCC in text, text[:300]
    assert "?" not in text
