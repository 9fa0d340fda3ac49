"""Routes of short links: create one (signed in), follow one (anyone with the code)."""

from __future__ import annotations

import html
import secrets
from typing import Annotated, Any

import msgspec
from litestar import Request, Response, get, post
from litestar.params import FromPath, JSONBody
from litestar.response import Redirect

from backend.cases.service import ActorDep
from backend.lib.language import request_locale
from backend.lib.problems import ProblemError
from backend.links.tables import ShortLink
from backend.platform import PlatformDep

TTL_SECONDS = 7 * 86400  # a co-signer has a week, as long as a signing round stays open in practice
ALPHABET = "23456789abcdefghjkmnpqrstuvwxyz"  # no 0/o, 1/l/i: a code read aloud or typed is not mistaken
CODE_LENGTH = 8


class ShortLinkCreate(msgspec.Struct, forbid_unknown_fields=True):
    url: Annotated[str, msgspec.Meta(max_length=4000, pattern=r"^https?://")]


class ShortLinkView(msgspec.Struct):
    code: str
    url: str
    expires_at: int


def _allowed_prefixes(platform: Any) -> list[str]:
    from backend.identity import get_identity
    from backend.identity.signing import sign_provider_base

    return [platform.settings.base_url.rstrip("/") + "/", sign_provider_base(get_identity(platform)) + "/"]


@post(
    "/api/v1/short-links",
    tags=["links"],
    summary="A short link (/s/<code>) to a link of this platform or its signing provider",
)
async def create_short_link(platform: PlatformDep, actor: ActorDep, data: JSONBody[ShortLinkCreate]) -> ShortLinkView:
    if not any(data.url.startswith(prefix) for prefix in _allowed_prefixes(platform)):
        raise ProblemError(
            422,
            "url_not_allowed",
            "只能为本平台及其签名服务的链接生成短链接。 Only this platform's links are shortened.",
            field="url",
        )
    now = platform.clock.now_ms()
    expires_at = now + TTL_SECONDS * 1000
    code = "".join(secrets.choice(ALPHABET) for _ in range(CODE_LENGTH))
    await ShortLink.insert(
        ShortLink(code=code, target=data.url, created_by=actor.id, created_at=now, expires_at=expires_at)
    )
    return ShortLinkView(code=code, url=f"{platform.settings.base_url.rstrip('/')}/s/{code}", expires_at=expires_at)


PAGES = {
    ("expired", "zh-CN"): (
        "链接已过期",
        "这个链接已过期（有效期 7 天）。请联系发给您链接的申请人，在“电子签名”页重新分享。",
    ),
    ("expired", "en"): (
        "This link has expired",
        "Links last 7 days. Ask the applicant who sent it to share it again from the e-signature page.",
    ),
    ("unknown", "zh-CN"): ("找不到这个链接", "请核对链接是否完整，或联系发给您链接的申请人重新分享。"),
    ("unknown", "en"): (
        "Link not found",
        "Check that the whole link was copied, or ask the applicant who sent it to share it again.",
    ),
}


def _refusal(request: Request, status: int, kind: str) -> Response:
    wants_html = "text/html" in request.headers.get("accept", "")
    if not wants_html:
        if kind == "expired":
            raise ProblemError(410, "short_link_expired", "链接已过期。 The link has expired.")
        raise ProblemError(404, "short_link_not_found", "找不到该链接。 No such link.")
    locale = request_locale(request)
    title, body = PAGES[(kind, "en" if locale == "en" else "zh-CN")]
    page = (
        f'<!doctype html><html lang="{"en" if locale == "en" else "zh-CN"}"><head><meta charset="utf-8">'
        '<meta name="viewport" content="width=device-width, initial-scale=1">'
        f"<title>{html.escape(title)}</title>"
        '<link rel="stylesheet" href="/shared/tokens.css"><link rel="stylesheet" href="/shared/components.css">'
        f'</head><body><main class="page" id="main"><h1 data-testid="short-link-{kind}">{html.escape(title)}</h1>'
        f"<p>{html.escape(body)}</p></main></body></html>"
    )
    return Response(content=page, status_code=status, media_type="text/html; charset=utf-8")


@get(
    "/s/{code:str}",
    tags=["links"],
    summary="Follow a short link: a redirect, or 404 / 410 once it is unknown or expired",
)
async def follow_short_link(request: Request, platform: PlatformDep, code: FromPath[str]) -> Response:
    row = await ShortLink.select(ShortLink.target, ShortLink.expires_at).where(ShortLink.code == code.lower()).first()
    if row is None:
        return _refusal(request, 404, "unknown")
    if row["expires_at"] <= platform.clock.now_ms():
        return _refusal(request, 410, "expired")
    return Redirect(path=row["target"], status_code=302)


ROUTES: list[Any] = [create_short_link, follow_short_link]
