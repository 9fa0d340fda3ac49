"""One language per message: the reader's, from ``Accept-Language`` (zh-CN first, English second).

Services write a message once with both languages, either as a pair (``bilingual(zh, en)``)
or, as most older messages do, as "中文。 English." in one string. The edges of the API (the
problem handlers, the pre-check and the case view) pass every message through ``localize``
with the request's locale, so a person never reads both languages at once.
"""

from __future__ import annotations

import re
from typing import Any

ZH, EN = "zh-CN", "en"
_CJK = re.compile(r"[\u3400-\u9fff\u3000-\u303f\uff00-\uffef]")
# Where the Chinese half ends: after CJK punctuation (or a CJK character) and whitespace, an
# English sentence starts with a capital; or the halves are joined with " / ".
_SPLIT = re.compile(
    r"(?:(?<=[\u3002\uff01\uff1f\uff09\u300d\u3011\uff1b\u4e00-\u9fff0-9）)])\s+|\s+/\s+)(?=[A-Z\"'“(])"
)


def negotiate(accept_language: str | None) -> str:
    """The locale to answer in: English only when the client prefers it over Chinese."""
    best, best_q = ZH, -1.0
    for part in (accept_language or "").split(","):
        tag, _, params = part.strip().partition(";")
        tag = tag.strip().lower()
        if not tag:
            continue
        q = 1.0
        for p in params.split(";"):
            name, _, value = p.strip().partition("=")
            if name == "q":
                try:
                    q = float(value)
                except ValueError:
                    q = 0.0
        locale = EN if tag.startswith("en") else ZH if tag.startswith("zh") else None
        if locale and q > 0 and q > best_q:
            best, best_q = locale, q
    return best


def request_locale(request: Any) -> str:
    """The locale of a Litestar request (its ``Accept-Language``)."""
    return negotiate(request.headers.get("accept-language"))


def bilingual(zh: str, en: str) -> str:
    """One message in both languages, to be narrowed to one by ``localize`` at the edge."""
    return f"{zh} / {en}"


def split(text: str) -> tuple[str, str]:
    """(Chinese, English) halves of a bilingual message; a one-language text is both halves."""
    if not text or not _CJK.search(text):
        return text, text
    for match in _SPLIT.finditer(text):
        zh, en = text[: match.start()], text[match.end() :]
        if _CJK.search(zh) and re.match(r"[\"'“(]?[A-Z][A-Za-z]*[\s,.:;!?'’-]", en + " "):
            return zh.strip(), en.strip()
    return text, text


def localize(text: str | None, locale: str) -> str | None:
    """The part of a message in ``locale`` (the whole text when it is in one language only)."""
    if not text:
        return text
    zh, en = split(text)
    return en if locale == EN else zh


def pick(label: Any, locale: str) -> str:
    """A {zh, en} / {zh-CN, en} record's text in ``locale``; a plain string through ``localize``."""
    if isinstance(label, dict):
        texts: dict[str, str] = label
        zh = texts.get("zh-CN", texts.get("zh", ""))
        return (texts.get("en") or zh) if locale == EN else zh
    if hasattr(label, "zh") and hasattr(label, "en"):
        return (label.en or label.zh) if locale == EN else label.zh
    return localize(str(label), locale) or ""
