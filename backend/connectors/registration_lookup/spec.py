"""The registration lookup's interface standard (``openapi.yaml``), written from the wire shapes.

``python -m backend.connectors.registration_lookup.spec`` rewrites ``openapi.yaml``;
``--check`` fails when it is out of date (a test runs it).
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import msgspec
import yaml

from backend.connectors.client import JWKS_PATH
from backend.connectors.registration_lookup import (
    ENTERPRISE_PATH,
    ENTERPRISE_SEARCH_PATH,
    PERSON_PATH,
    PERSON_SEARCH_PATH,
    SIGNATURE_ALGORITHM,
    EnterpriseList,
    EnterpriseSearch,
    PersonList,
    PersonSearch,
)
from backend.connectors.specgen import SIGNATURE_NOTES
from backend.registration import EnterpriseRecord, PersonRecord

SPEC_FILE = Path(__file__).with_name("openapi.yaml")

DESCRIPTION = """\
福建省市场监管智慧应用一体化平台（企业登记信息）向福建省企业注销“一件事”平台提供企业登记信息查询的对接标准。

平台据此确定谁可以代表企业办理（法定代表人、投资人、合伙人、清算组成员等），预填申请表，并取得平台自身掌握的情形
（海关备案、参保单位、银行账户、印章、分支机构、经营异常名录、股权出质、对外投资）。

## 签名（JOSE，ES256 或 SM2SM3）
与各业务系统对接标准相同：每个请求和响应都在 `X-Signature` 头中携带分离式 JWS（RFC 7515 附录 F），载荷为报文体原文
（GET 为空）。受保护头含 `kid`、`iat`、`exp`（不超过 300 秒，允许 60 秒时钟偏差）、`jti`；请求另含 `htm`（方法）与
`htu`（相对本系统基地址的路径）；响应另含 `irt`（所响应请求的 `jti`）。平台以 `X-Client-Id` 标识自身；本系统公钥发布于
`GET /.well-known/jwks.json`，轮换时新旧并存。验签不通过的应答，平台一律不予采信。

本标准的签名算法为 `x-signature-algorithm`（见 `info`）所列的 ES256；经双方约定，也可改用国密 SM2SM3
（平台配置 `SIGNATURE_ALGORITHMS=registration=SM2`），此时双方的请求、应答和公钥集都只用 SM2SM3，
另一种算法的签名一律不予采信。

{notes}

## 个人信息
按人员查询的条件（人员编号、身份证号码）放在 POST 报文体中，不放在 URL 中，以免出现在代理和访问日志里。

## 可用性
平台对每次查询设置连接 2 秒、读取 5 秒超时，遇网络错误、超时、`429`、`5xx` 或无法验签的应答最多重试两次；
仍失败时，平台告知申请人“企业登记信息系统暂时没有响应，请稍后再试”
（HTTP 503 `registration_lookup_unavailable`，带 `Retry-After`），申请人已填写的内容不会丢失。
平台对查询结果缓存不超过 60 秒，缓存键包含决定结果的全部条件（路径与查询报文体），
不会把一个人的查询结果提供给另一个人。

## 测试环境
测试环境（`python -m backend.sandbox`）在 `/sim/registration` 以测试数据集提供本接口，并可通过
`PATCH /admin/faults`（`down`、`fail_next`、`latency_ms`）模拟系统故障。

## 符合性测试
与各业务系统相同，本系统的实现可在联调前用符合性测试工具检查：
`python -m backend.connectors.conformance --system registration --base-url <本系统测试地址>`
（约定国密时加 `--signature-algorithm SM2`）。工具在测试入口 `PUT /admin/clients/{{client_id}}` 登记临时公钥
（或以 `--key` 使用已登记的密钥并加 `--no-register`），逐项检查并给出 PASS/FAIL：公钥集含约定算法的密钥且不含私钥分量；
应答只以约定算法签名，另一算法签名的请求被拒绝；按统一社会信用代码查询已知企业（`--uscc`）返回 200 与签名、
`irt` 指向该请求、含本标准全部必填字段的 `EnterpriseRecord`，查无此企业返回签名的 404；按人员编号查询已知人员
（`--person-id`）；按身份证号码（`--id-number`）查询人员和企业均以 POST 报文体传递条件，返回可解析的列表；
未签名、伪造、过期以及与请求方法或路径（`htm`/`htu`）不符的签名均返回 401。默认查询测试数据集中的企业及其法定代表人，
测试系统须持有这些数据。
"""

_SIGNED = {
    "X-Signature": {"description": "分离式 JWS（ES256 或 SM2SM3），见上文“签名”", "schema": {"type": "string"}},
}


def _params() -> list[dict[str, Any]]:
    return [
        {
            "name": "X-Client-Id",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": "客户端标识",
        },
        {
            "name": "X-Signature",
            "in": "header",
            "required": True,
            "schema": {"type": "string"},
            "description": "请求签名",
        },
    ]


def _answer(ref: str, description: str) -> dict[str, Any]:
    return {
        "description": description,
        "headers": _SIGNED,
        "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}},
    }


_ERRORS = {
    "401": {"description": "客户端未登记、未签名或签名无效", "headers": _SIGNED},
    "503": {
        "description": "系统维护或暂时不可用；平台稍后重试",
        "headers": {"Retry-After": {"schema": {"type": "integer"}, "description": "建议的重试间隔（秒）"}},
    },
}


def openapi_document() -> dict[str, Any]:
    """The interface standard as a dict (OpenAPI 3.1)."""
    _, components = msgspec.json.schema_components(
        [EnterpriseRecord, EnterpriseList, EnterpriseSearch, PersonRecord, PersonList, PersonSearch],
        ref_template="#/components/schemas/{name}",
    )

    def path_param(name: str, description: str) -> dict[str, Any]:
        return {"name": name, "in": "path", "required": True, "schema": {"type": "string"}, "description": description}

    def body(ref: str) -> dict[str, Any]:
        return {"required": True, "content": {"application/json": {"schema": {"$ref": f"#/components/schemas/{ref}"}}}}

    not_found = {"description": "查无此记录", "headers": _SIGNED}
    return {
        "openapi": "3.1.0",
        "info": {
            "title": "企业登记信息查询 对接标准 / registration lookup",
            "version": "1.0.0",
            "description": DESCRIPTION.format(notes="\n".join(SIGNATURE_NOTES.values())),
            "x-signature-algorithm": SIGNATURE_ALGORITHM,
        },
        "servers": [
            {
                "url": "http://{host}/sim/registration",
                "description": "测试环境",
                "variables": {"host": {"default": "127.0.0.1:8900"}},
            }
        ],
        "paths": {
            JWKS_PATH: {"get": {"summary": "本系统的签名公钥（JWKS）", "responses": {"200": {"description": "JWKS"}}}},
            ENTERPRISE_PATH + "/{uscc}": {
                "get": {
                    "summary": "按统一社会信用代码查询企业登记信息",
                    "description": "企业名称、主体类型、登记机关所在地（区划代码）、注销适用程序、"
                    "人员及其身份（法定代表人、投资人、合伙人、清算组成员等）、银行账户、印章、海关备案、"
                    "参保单位、分支机构及各项登记状态。",
                    "parameters": [path_param("uscc", "统一社会信用代码（18 位）"), *_params()],
                    "responses": {"200": _answer("EnterpriseRecord", "企业登记信息"), "404": not_found, **_ERRORS},
                }
            },
            ENTERPRISE_SEARCH_PATH: {
                "post": {
                    "summary": "查询某人在登记信息中出现的全部企业",
                    "description": "人员编号与身份证号码任一相符即为同一人。",
                    "parameters": _params(),
                    "requestBody": body("EnterpriseSearch"),
                    "responses": {"200": _answer("EnterpriseList", "企业列表（可为空）"), **_ERRORS},
                }
            },
            PERSON_PATH + "/{person_id}": {
                "get": {
                    "summary": "按人员编号查询自然人",
                    "parameters": [path_param("person_id", "人员编号"), *_params()],
                    "responses": {"200": _answer("PersonRecord", "自然人"), "404": not_found, **_ERRORS},
                }
            },
            PERSON_SEARCH_PATH: {
                "post": {
                    "summary": "按身份证号码查询自然人",
                    "parameters": _params(),
                    "requestBody": body("PersonSearch"),
                    "responses": {"200": _answer("PersonList", "自然人（至多一人）"), **_ERRORS},
                }
            },
        },
        "components": {"schemas": components},
    }


def render() -> str:
    header = "# Written by `python -m backend.connectors.registration_lookup.spec`; do not edit by hand.\n"
    return header + yaml.safe_dump(openapi_document(), allow_unicode=True, sort_keys=False, width=120)


def main(argv: list[str] | None = None) -> int:
    """Write ``openapi.yaml``; with ``--check``, exit 1 if it differs."""
    argv = sys.argv[1:] if argv is None else argv
    text = render()
    if "--check" in argv:
        current = SPEC_FILE.read_text() if SPEC_FILE.exists() else ""
        if current != text:
            print(f"{SPEC_FILE} is out of date: run python -m backend.connectors.registration_lookup.spec")
            return 1
        return 0
    SPEC_FILE.write_text(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
