"""Generate each system's published interface standard (对接标准) ``openapi.yaml`` from its spec.

    python -m backend.connectors.specgen          # rewrite every <system>/openapi.yaml
    python -m backend.connectors.specgen --check  # exit 1 if a committed file is stale

The wire shapes come from ``base.py`` (msgspec schemas) so the document and the code agree.
"""

from __future__ import annotations

import argparse
import sys
from pathlib import Path
from typing import Any

import msgspec
import yaml

from backend.connectors.base import (
    MAX_BATCH_EVENTS,
    Ack,
    BatchAnswer,
    CallbackBatch,
    CallbackResult,
    ItemStatus,
    PrecheckResult,
    Submission,
)
from backend.connectors.signing import DEFAULT_TTL, MAX_SKEW
from backend.connectors.spec import PayloadField, SystemSpec

HERE = Path(__file__).parent

ERROR_CODES: dict[str, tuple[int, str]] = {
    "missing_signature": (401, "请求未签名"),
    "malformed_signature": (401, "签名不是分离式 JWS"),
    "invalid_signature": (401, "签名校验失败（内容被篡改或密钥不符）"),
    "unknown_key": (401, "签名所用 kid 不在客户端公钥集中"),
    "expired_signature": (401, "签名已过期（exp）"),
    "not_yet_valid": (401, "签名时间晚于当前时间（iat）"),
    "unknown_client": (401, "X-Client-Id 未登记"),
    "signature_scope_mismatch": (401, "签名中的 htm/htu/idk 与本次请求不符"),
    "missing_idempotency_key": (400, "缺少 Idempotency-Key"),
    "malformed_body": (400, "请求体不是合法 JSON"),
    "idempotency_key_reused": (409, "同一幂等键对应了不同的请求内容"),
    "not_awaiting_correction": (409, "事项不处于待补正状态"),
    "invalid_submission": (422, "提交内容不符合对接标准（逐字段说明见 errors / reasons）"),
    "unknown_reference": (404, "业务编号不存在"),
    "service_unavailable": (503, "系统暂不可用，请按 Retry-After 重试（使用同一幂等键）"),
}

#: Business reason codes each check may give (the simulator's rules and real systems alike).
BUSINESS_REASONS: dict[str, dict[str, str]] = {
    "tax_arrears": {"tax_arrears": "存在未缴税款、滞纳金或罚款"},
    "uncancelled_invoices": {"uncancelled_invoices": "发票未缴销"},
    "active_branches": {"active_branches": "尚有分支机构未注销"},
    "simplified_eligibility": {
        "abnormal_list": "列入经营异常名录，不适用简易注销",
        "pledged_equity": "股权（财产份额）出质，不适用简易注销",
        "outward_investments": "存在对外投资，不适用简易注销",
    },
    "customs_filed": {"not_customs_filed": "无报关单位备案"},
    "customs_pending_declarations": {"pending_customs_declarations": "报关单未办结"},
    "si_registered": {"not_insured_unit": "未登记为参保单位"},
    "si_arrears": {"si_arrears": "欠缴社会保险费"},
    "bank_account_known": {"unknown_account": "账户不存在", "no_bank_account": "无银行结算账户"},
    "basic_account_last": {"basic_account_not_last": "基本存款账户须最后撤销"},
    "seals_on_file": {"no_seal_on_file": "无备案印章"},
}

#: How each signature algorithm a spec may name (``x-signature-algorithm``) reads in the standard.
SIGNATURE_NOTES = {
    "ES256": "- 签名算法 `ES256`：ECDSA，曲线 P-256，杂凑 SHA-256（RFC 7518 §3.4）；公钥为 JWK `kty`=EC、`crv`=P-256。",
    "SM2": (
        "- 签名算法 `SM2SM3`（国密，满足 GB/T 39786-2021）：SM2 数字签名（GB/T 32918.2-2016），杂凑 SM3"
        "（GB/T 32905-2016），\n  e = SM3(Z_A ‖ 签名输入)，Z_A 按 GB/T 32918.2 第 5.5 条计算，"
        "用户身份标识取 GM/T 0009-2012 默认值 `1234567812345678`；\n"
        "  签名值为 r ‖ s（各 32 字节大端）的 base64url，与 ES256 相同的编码方式。\n"
        "- SM2 公钥以 JWK 交换与发布：`kty`=EC、`crv`=SM2、`x`/`y`（各 32 字节大端，base64url），私钥分量 `d`"
        " 绝不出现在公钥集中；\n  公钥集中各密钥的 `alg` 为 `SM2SM3`。"
    ),
}


def signature_text(spec: Any) -> dict[str, str]:
    """The ``{alg}`` and ``{alg_note}`` of a standard's signature section for ``spec``'s algorithm."""
    algorithm = getattr(spec, "signature_algorithm", "ES256")
    return {"alg": spec.jws_alg, "alg_note": SIGNATURE_NOTES[algorithm]}


DESCRIPTION = """\
{name_zh}（{owner_zh}）与福建省企业注销“一件事”平台的对接标准。

{notes}

## 调用方式
- 平台以 `POST {submit_path}` 推送一个事项；系统**异步受理**：立即返回 `202` 与业务编号（reference），
  办理结果稍后以**签名回调**推送到提交中的 `callback_url`；也可随时查询状态。
- `item_ref` 是平台对该事项的稳定编号：同一 `item_ref` 以不同幂等键再次提交时，系统返回原业务编号并标记 `duplicate: \
true`，不得重复办理。

## 签名（JOSE，{alg}）
- 每个请求、响应和回调都在 `X-Signature` 头中携带**分离式 JWS**（RFC 7515 附录 F，`<protected>..<signature>`），\
载荷为 HTTP 报文体原文（GET 为空）。
{alg_note}
- 受保护头：`alg`={alg}、`kid`、`iat`、`exp`（有效期不超过 {ttl} 秒，允许 {skew} 秒时钟偏差）、`jti`（每条消息唯一，\
用于防重放）；
  请求另含 `htm`（方法）、`htu`（相对本系统基地址的路径及查询串）与 `idk`（本次 `Idempotency-Key`）；响应另含 \
`irt`（所响应请求的 `jti`）。
- 平台以 `X-Client-Id` 标识自身，公钥（JWKS）在对接登记时交换；本系统公钥发布于 `GET /.well-known/jwks.json`，\
轮换密钥时新旧并存。
- 回调验签失败、过期或 `jti` 重复的，平台拒收（HTTP 400）。

## 幂等
- 每个 POST 必须携带 `Idempotency-Key`。同一客户端、同一幂等键、相同报文体：返回与首次**完全相同**的应答，\
不产生第二次效果；
  报文体不同：`409 idempotency_key_reused`。幂等记录至少保留 7 天。
- 遇网络错误、超时、`429`、`5xx` 时平台以同一幂等键重试（指数退避并加抖动）。

## 回调
- 每个事件 `event_id` 唯一；重发同一事件时 `event_id` 不变（每次重新签名，`jti` 不同）。`sequence` 按事项递增，\
平台以其判断先后，迟到的旧事件不会回退状态。
- 事件依次为 `accepted`（已受理）→（可选）`in_progress`（办理中）→ `completed`（已办结，附结果文书及 SHA-256）/ \
`rejected`（不予办理，附业务原因）/ `correction_requested`（退回补正，附补正项）。
- 平台返回 2xx 即表示已收妥；否则系统应以指数退避重发（建议至少 8 次、间隔上限 5 分钟）。

## 精简形式（可选）
以下两种形式均为**可选**，与上述经典形式并存；平台同时支持两者，系统可只采用其一，符合性测试工具分别检查。
- **应答即受理**：系统可在推送事项（及提交补正）的同步应答中以 `event` 字段给出 `accepted`（已受理）事件，\
不再另发 `accepted` 回调。该事件与回调事件结构相同（`event_id`、`sequence` 等），`reference`、`item_ref`、\
`system` 须与本次应答及提交一致；同一幂等键重放时应答（含 `event_id`）完全相同，平台按 `event_id` 只处理一次。
- **批量回调**：系统可将多个事件合并为一次签名回调，报文体为 `{{"events": [CallbackResult, ...]}}`\
（`CallbackBatch`，1 至 {max_batch} 个事件），推送至提交中的 `callback_url`（与单个事件相同地址）。
  - 一批只能包含**本系统**的事件，可涉及不同申请（案件）的不同事项；每个事件保留自己的 `event_id` 与 `sequence`，\
平台逐个校验该事项是否由本系统办理，逐个处理，互不影响；同一事项的多个事件按 `sequence` 先后排列。
  - 签名覆盖整个报文体（一批一个 `jti`）；同一事件重复出现（同一批内或重发）只处理一次。
  - 平台返回 `200` 与 `BatchAnswer`：按事件逐一给出 `status`：`applied`（已处理）、`ignored`（已收妥但过时或不合状态，\
不改变事项）、`duplicate`（此前已收妥）、`refused`（拒收，`code` 说明原因，如 `unknown_item`、\
`item_not_routed_to_system`、`wrong_system`，不得重发）、`retry`（平台暂时未能处理，系统应以指数退避**仅重发该事件**）。
  - 整批验签失败、过期、重放或格式错误时平台拒收整批（HTTP 400/401），系统按经典形式的规则重发。

## 业务拒绝
业务上不予受理或不予办理是**结果**，以 `rejected` 回调（或 `422` 应答的 `reasons`）给出，原因码与中文说明见 \
`x-business-reasons`。
"""


def _payload_schema(fields: tuple[PayloadField, ...]) -> dict[str, Any]:
    props: dict[str, Any] = {}
    for f in fields:
        node: dict[str, Any] = {"type": f.type, "description": f.description_zh}
        if f.type == "array":
            node["items"] = {"type": "string"}
        if f.properties:
            node.update(_payload_schema(f.properties))
        props[f.name] = node
    out: dict[str, Any] = {"type": "object", "properties": props}
    required = [f.name for f in fields if f.required]
    if required:
        out["required"] = required
    return out


def _headers(post: bool) -> list[dict[str, Any]]:
    params = [
        {
            "name": "X-Client-Id",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": "平台客户端标识（对接登记时分配）",
        },
        {
            "name": "X-Signature",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": "分离式 JWS（见说明）",
        },
    ]
    if post:
        params.append(
            {
                "name": "Idempotency-Key",
                "in": "header",
                "required": True,
                "schema": {"type": "string", "maxLength": 128},
                "description": "幂等键",
            }
        )
    return params


def _responses(ok: dict[int, Any], *codes: int) -> dict[str, Any]:
    signed = {"X-Signature": {"description": "本系统对响应体的分离式 JWS（含 irt）", "schema": {"type": "string"}}}
    out = {str(k): {**v, "headers": signed} for k, v in ok.items()}
    problem = {
        "content": {"application/problem+json": {"schema": {"$ref": "#/components/schemas/Problem"}}},
        "headers": signed,
    }
    text = {
        400: "请求有误",
        401: "未签名、签名无效或客户端未登记",
        404: "业务编号不存在",
        409: "幂等键冲突或状态不符",
        422: "提交内容不符合对接标准",
        429: "限流，请按 Retry-After 重试",
        503: "暂不可用，请按 Retry-After 重试",
    }
    for code in codes:
        out[str(code)] = {"description": text[code], **problem}
    return out


def build_document(spec: SystemSpec, also: tuple[SystemSpec, ...] = ()) -> dict[str, Any]:
    """The OpenAPI 3.1 document of one system (``also``: other offices sharing the interface)."""
    _, components = msgspec.json.schema_components(
        [Submission, Ack, ItemStatus, CallbackResult, CallbackBatch, BatchAnswer, PrecheckResult],
        ref_template="#/components/schemas/{name}",
    )
    components["Submission"]["properties"]["payload"] = {"$ref": "#/components/schemas/Payload"}
    components["Submission"]["properties"].pop("idempotency_key", None)
    components["Submission"]["properties"]["item_code"]["enum"] = list(spec.items)
    components["Payload"] = _payload_schema(spec.payload)
    components["Problem"] = {
        "type": "object",
        "required": ["type", "title", "status", "code"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "code": {"type": "string", "enum": sorted(ERROR_CODES)},
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object"}},
            "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/Reason"}},
        },
    }
    components["JWKS"] = {
        "type": "object",
        "required": ["keys"],
        "properties": {"keys": {"type": "array", "items": {"type": "object"}}},
    }
    zh = {
        "Submission": "平台推送的一个事项",
        "Ack": "受理应答",
        "ItemStatus": "事项状态",
        "CallbackResult": "签名回调事件",
        "CallbackBatch": "批量回调（精简形式，可选）：本系统的多个事件，可涉及不同申请",
        "BatchAnswer": "平台对批量回调的应答：逐个事件的处理结果",
        "EventAnswer": "单个事件的处理结果（retry：仅重发该事件；refused：不得重发）",
        "PrecheckResult": "注销预检结果",
        "Reason": "业务原因",
        "Correction": "补正项",
        "ResultDocument": "结果文书",
        "Payload": "事项数据",
    }
    for name, text in zh.items():
        if name in components:
            components[name]["description"] = text

    def ack(desc: str) -> dict[str, Any]:
        return {"description": desc, "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Ack"}}}}

    def status_ok() -> dict[int, Any]:
        return {
            200: {
                "description": "事项状态",
                "content": {"application/json": {"schema": {"$ref": "#/components/schemas/ItemStatus"}}},
            }
        }

    sub_body = {
        "required": True,
        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/Submission"}}},
    }
    ref_param = {
        "name": "reference",
        "in": "path",
        "required": True,
        "schema": {"type": "string"},
        "description": "业务编号",
    }
    paths = {
        spec.submit_path: {
            "post": {
                "operationId": "submitItem",
                "summary": "推送事项（异步受理）",
                "parameters": _headers(True),
                "requestBody": sub_body,
                "responses": _responses(
                    {
                        202: ack("已接收，稍后回调（精简形式：event 即受理事件）"),
                        200: ack("同一事项已提交过（duplicate）"),
                    },
                    400,
                    401,
                    409,
                    422,
                    429,
                    503,
                ),
            },
            "get": {
                "operationId": "findItem",
                "summary": "按平台事项编号查询",
                "parameters": [
                    *_headers(False),
                    {"name": "item_ref", "in": "query", "required": True, "schema": {"type": "string"}},
                ],
                "responses": _responses(status_ok(), 401, 404, 503),
            },
        },
        spec.status_path: {
            "get": {
                "operationId": "getItem",
                "summary": "按业务编号查询状态",
                "parameters": [ref_param, *_headers(False)],
                "responses": _responses(status_ok(), 401, 404, 503),
            }
        },
        spec.correction_path: {
            "post": {
                "operationId": "correctItem",
                "summary": "提交补正",
                "parameters": [ref_param, *_headers(True)],
                "requestBody": sub_body,
                "responses": _responses({202: ack("补正已接收")}, 400, 401, 404, 409, 422, 503),
            }
        },
        spec.precheck_path: {
            "post": {
                "operationId": "precheck",
                "summary": "注销预检（返回阻碍事项）",
                "parameters": _headers(True),
                "requestBody": {
                    "required": True,
                    "content": {
                        "application/json": {
                            "schema": {
                                "type": "object",
                                "required": ["uscc", "item_code"],
                                "properties": {
                                    "uscc": {"type": "string"},
                                    "item_code": {"type": "string"},
                                    "region": {"type": "string"},
                                },
                            }
                        }
                    },
                },
                "responses": _responses(
                    {
                        200: {
                            "description": "阻碍事项",
                            "content": {
                                "application/json": {"schema": {"$ref": "#/components/schemas/PrecheckResult"}}
                            },
                        }
                    },
                    401,
                    422,
                    503,
                ),
            }
        },
        "/.well-known/jwks.json": {
            "get": {
                "operationId": "jwks",
                "summary": "本系统签名公钥集",
                "security": [],
                "responses": {
                    "200": {
                        "description": "JWKS",
                        "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JWKS"}}},
                    }
                },
            }
        },
    }
    offices = (spec, *also)
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{spec.name_zh.split('（')[0]} 对接标准 / interface standard",
            "version": "1.0.0",
            "description": DESCRIPTION.format(
                name_zh=spec.name_zh.split("（")[0],
                owner_zh="、".join(s.owner_zh for s in offices),
                notes="\n".join(s.notes_zh for s in offices),
                submit_path=spec.submit_path,
                max_batch=MAX_BATCH_EVENTS,
                ttl=DEFAULT_TTL,
                skew=MAX_SKEW,
                **signature_text(spec),
            ),
            "x-signature-algorithm": spec.signature_algorithm,
        },
        "servers": [
            {
                "url": f"http://{{host}}/sim/{s.code}",
                "description": f"测试环境（{s.owner_zh}）",
                "variables": {"host": {"default": "127.0.0.1:8900"}},
            }
            for s in offices
        ],
        "x-system-codes": [s.code for s in offices],
        "x-items": list(spec.items),
        "x-two-way": spec.two_way,
        "x-one-submission-per-account": spec.per_account,
        "x-business-reasons": {code: text for check in spec.checks for code, text in BUSINESS_REASONS[check].items()},
        "x-error-codes": {
            code: {"status": status, "description": text} for code, (status, text) in ERROR_CODES.items()
        },
        "paths": paths,
        "webhooks": {
            "itemResult": {
                "post": {
                    "summary": "办理结果回调（推送至 Submission.callback_url）",
                    "parameters": [
                        {
                            "name": "X-Signature",
                            "in": "header",
                            "required": True,
                            "schema": {"type": "string"},
                            "description": "本系统对回调报文体的分离式 JWS",
                        }
                    ],
                    "requestBody": {
                        "required": True,
                        "content": {
                            "application/json": {
                                "schema": {
                                    "oneOf": [
                                        {"$ref": "#/components/schemas/CallbackResult"},
                                        {"$ref": "#/components/schemas/CallbackBatch"},
                                    ]
                                }
                            }
                        },
                    },
                    "responses": {
                        "200": {
                            "description": "已收妥（单个事件）；批量回调时为逐个事件的结果",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/BatchAnswer"}}},
                        },
                        "400": {"description": "验签失败、过期、重放或格式错误：平台拒收"},
                    },
                }
            }
        },
        "components": {"schemas": components},
    }


PUSH_DESCRIPTION = """\
{name_zh}（{owner_zh}）接收福建省企业注销“一件事”平台推送消息的对接标准。

{notes}

## 调用方式
- 平台以 `POST {path}` 推送一条消息，系统**同步应答**：`202`（或重复时 `200`）与回执号（receipt）。
- `message_id` 是消息的唯一编号，也是本次请求的 `Idempotency-Key`。同一 `message_id` 以不同幂等键再次推送时，
  系统返回首次的回执号并标记 `duplicate: true`，**不得**再次保存或发送。
- 业务上拒收是**结果**：`422` 应答，`reasons` 给出原因码与中文说明；平台记为“送达失败”，不重试。
- 遇网络错误、超时、`429`、`5xx` 时平台以同一幂等键重试（指数退避并加抖动，间隔上限 5 分钟）。

## 签名（JOSE，{alg}）与幂等
与各部门业务系统的对接标准相同：请求与响应在 `X-Signature` 头中携带分离式 JWS（受保护头 `kid`、`iat`、`exp`
（有效期不超过 {ttl} 秒，允许 {skew} 秒偏差）、`jti`，请求另含 `htm`、`htu`、`idk`，响应另含 `irt`）；平台以
`X-Client-Id` 标识自身；本系统公钥发布于 `GET /.well-known/jwks.json`。
同一幂等键、相同报文体：返回与首次完全相同的应答；报文体不同：`409 idempotency_key_reused`。
"""


def build_push_document(spec) -> dict[str, Any]:
    """The OpenAPI 3.1 document of one push system (好差评, SMS) from its ``PushSpec``."""
    from backend.connectors.push import PushAck

    _, components = msgspec.json.schema_components(
        [spec.message_type, PushAck], ref_template="#/components/schemas/{name}"
    )
    for name, fields in spec.field_docs_zh.items():
        for field_name, text in fields.items():
            components[name]["properties"][field_name]["description"] = text
    for name, text in spec.schema_docs_zh.items():
        components[name]["description"] = text
    codes = [
        "missing_signature",
        "invalid_signature",
        "unknown_key",
        "expired_signature",
        "unknown_client",
        "signature_scope_mismatch",
        "missing_idempotency_key",
        "idempotency_key_reused",
        "service_unavailable",
    ]
    components["Problem"] = {
        "type": "object",
        "required": ["type", "title", "status", "code"],
        "properties": {
            "type": {"type": "string"},
            "title": {"type": "string"},
            "status": {"type": "integer"},
            "code": {"type": "string", "enum": sorted([*codes, "invalid_message", "message_refused"])},
            "detail": {"type": "string"},
            "errors": {"type": "array", "items": {"type": "object"}},
            "reasons": {"type": "array", "items": {"$ref": "#/components/schemas/Reason"}},
        },
    }
    components["JWKS"] = {
        "type": "object",
        "required": ["keys"],
        "properties": {"keys": {"type": "array", "items": {"type": "object"}}},
    }
    message = spec.message_type.__name__
    ack = {"content": {"application/json": {"schema": {"$ref": "#/components/schemas/PushAck"}}}}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": f"{spec.name_zh} 对接标准",
            "version": "1.0.0",
            "description": PUSH_DESCRIPTION.format(
                name_zh=spec.name_zh,
                owner_zh=spec.owner_zh,
                notes=spec.notes_zh,
                path=spec.message_path,
                ttl=DEFAULT_TTL,
                skew=MAX_SKEW,
                **signature_text(spec),
            ),
            "x-system-code": spec.code,
            "x-signature-algorithm": spec.signature_algorithm,
        },
        "paths": {
            spec.message_path: {
                "post": {
                    "summary": f"推送一条消息（{message}）",
                    "operationId": f"push{message}",
                    "parameters": _headers(post=True),
                    "requestBody": {
                        "required": True,
                        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{message}"}}},
                    },
                    "responses": _responses(
                        {
                            202: {"description": "已接收，返回回执号", **ack},
                            200: {"description": "重复消息（duplicate: true），返回首次回执号", **ack},
                        },
                        400,
                        401,
                        409,
                        422,
                        429,
                        503,
                    ),
                }
            },
            "/.well-known/jwks.json": {
                "get": {
                    "summary": "本系统签名公钥（JWKS）",
                    "operationId": "jwks",
                    "responses": {
                        "200": {
                            "description": "公钥集",
                            "content": {"application/json": {"schema": {"$ref": "#/components/schemas/JWKS"}}},
                        }
                    },
                }
            },
        },
        "components": {"schemas": components},
    }


def documents() -> dict[Path, str]:
    """Every package's openapi.yaml text (agency systems and push systems)."""
    from backend.connectors.push import all_push_specs
    from backend.connectors.registry import all_specs

    by_package: dict[str, list[SystemSpec]] = {}
    for s in all_specs().values():
        by_package.setdefault(s.package, []).append(s)
    out = {}
    for package, specs in by_package.items():
        doc = build_document(specs[0], tuple(specs[1:]))
        header = (
            "# Generated by `python -m backend.connectors.specgen` from the system's SystemSpec; do not edit by hand.\n"
        )
        out[HERE / package / "openapi.yaml"] = header + yaml.safe_dump(
            doc, allow_unicode=True, sort_keys=False, width=120
        )
    for spec in all_push_specs().values():
        header = (
            "# Generated by `python -m backend.connectors.specgen` from the system's PushSpec; do not edit by hand.\n"
        )
        out[HERE / spec.package / "openapi.yaml"] = header + yaml.safe_dump(
            build_push_document(spec), allow_unicode=True, sort_keys=False, width=120
        )
    return out


def main(argv: list[str] | None = None) -> int:
    """Write the documents, or with ``--check`` report stale ones."""
    parser = argparse.ArgumentParser(prog="python -m backend.connectors.specgen")
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    stale = []
    for path, text in documents().items():
        if args.check:
            if not path.exists() or path.read_text(encoding="utf-8") != text:
                stale.append(str(path))
        else:
            path.write_text(text, encoding="utf-8")
            print(f"wrote {path}")
    if stale:
        print("stale: " + ", ".join(stale), file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
