"""The PDF people sign is made the same way whatever else the process is doing.

pikepdf's PDF/A validator counts any warning caught while it parses a content stream as a
violation, and ``warnings.catch_warnings`` is process-wide: a warning raised by another thread
(or a ResourceWarning from the garbage collector) while an application was rendered failed the
render, and with it the signing request. That is how the process-kill fault test failed now and
then (an unclosed log file's ResourceWarning). Rendering no longer validates in the request:
the validator runs here and in ``tests/security/test_finding15_application_pdf.py``.
"""

from __future__ import annotations

import gc
import io
import warnings

import pikepdf
import pikepdf.pdfa
import pytest

from backend.identity import render_pdf

TITLE = "企业注销登记申请书（福州𠮷祥贸易有限公司）"
LINES = [
    "法定代表人：吉田𠮷 Yoshida Taro",
    "本人承诺所填写内容真实有效。",
    *[f"第{i}条 股东 认缴出资额 {i} 万元" for i in range(40)],
]


@pytest.mark.filterwarnings("ignore::ResourceWarning")
def test_a_warning_from_the_garbage_collector_does_not_fail_a_render():
    """As an unclosed file's ResourceWarning would: the collector runs every few allocations here."""

    def unclosed_file_found(phase: str, info: dict) -> None:
        if phase == "start":
            warnings.warn("unclosed file <_io.BufferedWriter name='worker.log'>", ResourceWarning, stacklevel=1)

    threshold = gc.get_threshold()
    gc.callbacks.append(unclosed_file_found)
    gc.set_threshold(10)
    try:
        documents = {render_pdf(TITLE, [*LINES, str(n)]) for n in range(3)}
    finally:
        gc.set_threshold(*threshold)
        gc.callbacks.remove(unclosed_file_found)
    assert len(documents) == 3
    for document in documents:
        with pikepdf.open(io.BytesIO(document)) as pdf:
            report = pikepdf.pdfa.check(pdf, "2b")
            assert report.passed, report.summary()
