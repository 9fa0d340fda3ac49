"""福建省银政通系统: 银行账户注销, one submission per account, the basic account last."""

from backend.connectors.spec import COMMON_PAYLOAD, REGISTRATION_RESULT, PayloadField, ResultKind, SystemSpec

SPEC = SystemSpec(
    code="ytz-bank",
    package="ytz_bank",
    name_zh="福建省银政通系统",
    name_en="Fujian bank-government link (Yinzhengtong)",
    owner_zh="中国人民银行福建省分行",
    level="provincial",
    items=("BANK",),
    payload=COMMON_PAYLOAD
    + (
        REGISTRATION_RESULT,
        PayloadField(
            "account",
            "object",
            "待注销的银行结算账户（每个账户单独提交，基本存款账户最后提交）",
            properties=(
                PayloadField("account_no", "string", "账号"),
                PayloadField("bank_code", "string", "开户银行代码"),
                PayloadField("bank_name", "string", "开户银行名称", required=False),
                PayloadField("kind", "string", "账户种类：basic 基本、general 一般、special 专用、temporary 临时"),
            ),
        ),
    ),
    checks=("bank_account_known", "basic_account_last"),
    results=(ResultKind("银行结算账户撤销通知"),),
    reference_prefix="YZT",
    per_account=True,
    connector="bank",
    notes_zh="银政通引导开户银行办理销户（预约）；基本存款账户须在其他账户撤销后最后撤销。",
)
