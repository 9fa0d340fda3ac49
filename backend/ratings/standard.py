"""The 好差评 scale and indicators, as data.

Five levels (五级评价) from 非常满意 to 非常不满意; 不满意 and 非常不满意 are bad ratings (差评)
that must be followed up. The indicators are the usual dimensions of government-service
evaluation (办事指南, 办理流程, 办理时限, 服务态度, 平台体验, 办理结果, 材料); the province's
好差评 system may name them differently — map them here, never in code paths.
"""

from __future__ import annotations

LEVELS: dict[int, tuple[str, str]] = {
    5: ("非常满意", "Very satisfied"),
    4: ("满意", "Satisfied"),
    3: ("基本满意", "Fairly satisfied"),
    2: ("不满意", "Dissatisfied"),
    1: ("非常不满意", "Very dissatisfied"),
}
BAD_LEVELS = frozenset({1, 2})
SATISFIED_LEVELS = frozenset({3, 4, 5})

#: code -> (zh-CN, en, polarity). Praise for levels 3–5, problems for levels 1–2.
INDICATORS: dict[str, tuple[str, str, str]] = {
    "guide_clear": ("办事指南清晰准确", "Clear and accurate guide", "good"),
    "process_simple": ("办理流程简便", "Simple process", "good"),
    "fast": ("办理时间短", "Quick", "good"),
    "attitude_good": ("服务态度好", "Courteous staff", "good"),
    "platform_easy": ("平台便捷好用", "Easy to use", "good"),
    "fewer_materials": ("材料精简、免于重复提交", "Fewer materials, none twice", "good"),
    "result_clear": ("办理结果清楚", "Clear result", "good"),
    "guide_unclear": ("办事指南不清晰", "Unclear guide", "bad"),
    "process_complex": ("流程繁琐、多次跑动", "Complex process, several trips", "bad"),
    "slow": ("办理超时、进度不透明", "Slow or opaque progress", "bad"),
    "attitude_poor": ("服务态度差", "Discourteous staff", "bad"),
    "platform_hard": ("平台不好用", "Hard to use", "bad"),
    "repeated_materials": ("重复提交材料", "Materials asked twice", "bad"),
    "result_unclear": ("办理结果不明确", "Unclear result", "bad"),
    "other": ("其他", "Other", "any"),
}

#: Where the province's figures come from. The national guideline (国办发〔2019〕51号) allows 15
#: working days for rectification; Fujian's own measures set 10, and an unrated service counts as
#: 满意 after 7 natural days. Clause numbers not checked: the figures are confirmed by the
#: provincial development and reform commission's reading of 2019-11-05 (福州日报) and press copies.
FUJIAN_SOURCE = "福建省政务服务“好差评”管理办法（试行）（福建省审改办，2019年10月25日印发）"

#: working days allowed for each step of a bad rating's follow-up
VISIT_DAYS = 1  # 回访 (platform practice: the next working day; not a provincial figure)
RECTIFY_DAYS = 10  # 整改 and the reply to the applicant: 10 working days (FUJIAN_SOURCE)
#: an item not rated within this many natural days of closing counts as 满意 (FUJIAN_SOURCE)
DEFAULT_RATING_AFTER_DAYS = 7
DEFAULT_LEVEL = 4  # 满意
