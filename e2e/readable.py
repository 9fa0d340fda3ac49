"""What a person reads must be readable: no internal codes (lower-case ASCII joined by ``_`` or
``-``, like ``simplified_publicity`` or ``customs-fz``) and one language per message.

``unreadable(page)`` lists every visible text on the page that breaks either rule, in the page's
own language (``<html lang>``); text marked up with another ``lang`` (the language switch, an
enterprise's Chinese name in the English interface) is what WCAG 3.1.2 asks for, and is allowed.
The e2e ``axe`` fixture runs it on every applicant and kiosk page a walk visits."""

from __future__ import annotations

import re

_CJK = r"\u3400-\u9fff"
CODE = re.compile(r"(?<![A-Za-z0-9./:@=?&#%+-])[a-z][a-z0-9]*(?:[_-][a-z0-9]+)+(?![A-Za-z0-9./@=?&#%+-])")
SNAKE = re.compile(r"(?<![A-Za-z0-9./:@=?&#%+-])[a-z][a-z0-9]*(?:_[a-z0-9]+)+(?![A-Za-z0-9./@=?&#%+-])")
ENGLISH_PHRASE = re.compile(r"[A-Za-z]{3,}[ ,:;.!?/]+[A-Za-z]{3,}")
CJK = re.compile(f"[{_CJK}]")
# Chinese sentence punctuation: a Chinese message, not a name, inside English text
CHINESE_SENTENCE = re.compile(f"[{_CJK}][{_CJK}]*[。，：；！？]")

# Every visible text node with its element's text, skipping hidden parts and text marked with another language.
_TEXTS = """() => {
  const page = (document.documentElement.lang || 'zh-CN').toLowerCase();
  const out = [];
  const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT);
  for (let node = walker.nextNode(); node; node = walker.nextNode()) {
    const el = node.parentElement;
    const text = node.textContent.replace(/\\s+/g, ' ').trim();
    if (!text || !el || el.closest('script, style, noscript, template, [hidden], [aria-hidden="true"]')) continue;
    const lang = (el.closest('[lang]')?.getAttribute('lang') || page).toLowerCase();
    if (lang.slice(0, 2) !== page.slice(0, 2)) continue;
    const box = el.getBoundingClientRect();
    const style = getComputedStyle(el);
    if ((box.width === 0 && box.height === 0) || style.visibility === 'hidden' || style.display === 'none') {
      if (!el.closest('details:not([open])')) continue;  // a closed <details> is still the page's text
    }
    out.push(text);
  }
  return { lang: page, texts: out };
}"""


def problems_in(texts: list[str], lang: str) -> list[str]:
    """The texts that show an internal code or mix both languages, for a page in ``lang``."""
    found = []
    english = lang.startswith("en")
    for text in texts:
        codes = (SNAKE if english else CODE).findall(text)
        if codes:
            found.append(f"internal code {codes[0]!r} in {text[:80]!r}")
        if english and CHINESE_SENTENCE.search(text):
            found.append(f"Chinese in English text: {text[:80]!r}")
        if not english and CJK.search(text) and ENGLISH_PHRASE.search(text):
            found.append(f"English in Chinese text: {text[:80]!r}")
    return found


async def unreadable(page) -> list[str]:
    """Every visible text of ``page`` that shows an internal code or mixes both languages."""
    seen = await page.evaluate(_TEXTS)
    return problems_in(seen["texts"], seen["lang"])
