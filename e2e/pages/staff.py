"""The back office as QA drives it: a browser context signed in as a staff persona."""

from __future__ import annotations

from tests.workbench.live import login


async def staff_context(browser, base: str, persona: str):
    """A browser context (``base`` as its base URL) signed in as the sandbox ``persona``: the session
    and CSRF cookies a login through the identity provider leaves."""
    tokens = await login(base, persona)
    context = await browser.new_context(base_url=base, locale="zh-CN")
    await context.add_cookies(
        [
            {"name": "yjs_access", "value": tokens["access_token"], "url": base, "httpOnly": True, "sameSite": "Lax"},
            {"name": "yjs_csrf", "value": tokens["csrf_token"], "url": base, "sameSite": "Lax"},
        ]
    )
    return context
