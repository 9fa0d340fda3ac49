"""The e2e check for readable text catches codes and mixed languages, and lets ordinary text through."""

from __future__ import annotations

from e2e.readable import problems_in


def test_codes_and_mixed_languages_are_caught():
    assert problems_in(["办理机构 simplified_publicity"], "zh-CN")
    assert problems_in(["customs-fz"], "zh-CN")
    assert problems_in(["请上传：营业执照 / Upload: Business licence"], "zh-CN")
    assert problems_in(["请完成人脸识别。 Verify your face first."], "zh-CN")
    assert problems_in(["Office simplified_publicity"], "en")
    assert problems_in(["Upload: 请上传营业执照。"], "en")


def test_ordinary_text_passes():
    assert not problems_in(["上传 PDF、JPEG 或 PNG 文件", "申请编号 ZX20261203-000001-0", "English"], "zh-CN")
    assert not problems_in(["https://example.org/a-b_c", "福州榕鑫贸易有限公司"], "zh-CN")
    assert not problems_in(["Self-service terminal", "ICBC Fuzhou branch basic deposit account …0000"], "en")
    assert not problems_in(["Enterprise 福州榕鑫贸易有限公司"], "en")
