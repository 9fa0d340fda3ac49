"""One language per message: the reader's, chosen from Accept-Language."""

from __future__ import annotations

import pytest

from backend.lib.language import EN, ZH, bilingual, localize, negotiate, pick, split


@pytest.mark.parametrize(
    ("header", "locale"),
    [
        (None, ZH),
        ("", ZH),
        ("en", EN),
        ("en-US,en;q=0.9", EN),
        ("zh-CN,zh;q=0.9,en;q=0.8", ZH),
        ("en;q=0.5,zh-CN;q=0.9", ZH),
        ("fr-FR,en;q=0.3", EN),
        ("fr-FR", ZH),
        ("en;q=bad", ZH),
    ],
)
def test_the_locale_comes_from_accept_language(header, locale):
    assert negotiate(header) == locale


@pytest.mark.parametrize(
    ("text", "zh", "en"),
    [
        ("请完成人脸识别。 Verify your face first.", "请完成人脸识别。", "Verify your face first."),
        (bilingual("请上传：营业执照", "Upload: Business licence"), "请上传：营业执照", "Upload: Business licence"),
        ("尚待签署：张三、李四。 Signatures are missing.", "尚待签署：张三、李四。", "Signatures are missing."),
        (
            "您不是该部门（tax）的工作人员。 You are not staff of agency tax.",
            "您不是该部门（tax）的工作人员。",
            "You are not staff of agency tax.",
        ),
        (
            "请回答：您选择哪种注销方式？ Answer required: Which route?",
            "请回答：您选择哪种注销方式？",
            "Answer required: Which route?",
        ),
        ("必填", "必填", "必填"),
        ("Only English.", "Only English.", "Only English."),
        ("存在未结清税款", "存在未结清税款", "存在未结清税款"),
    ],
)
def test_a_bilingual_message_splits_into_its_two_languages(text, zh, en):
    assert split(text) == (zh, en)
    assert localize(text, ZH) == zh and localize(text, EN) == en


def test_labels_pick_one_language():
    assert pick({"zh": "税务注销", "en": "Tax clearance"}, EN) == "Tax clearance"
    assert pick({"zh-CN": "税务注销", "en": "Tax clearance"}, ZH) == "税务注销"
    assert pick({"zh": "税务注销", "en": ""}, EN) == "税务注销"
    assert localize(None, EN) is None
