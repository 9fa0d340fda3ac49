"""Front-end files are revalidated, never guessed fresh: ``Cache-Control: no-cache`` (set on the
static routers) makes a browser ask every time, so a deployment shows at once, and this
middleware answers ``304 Not Modified`` with no body when the copy it holds is current
(``If-None-Match`` against the ETag Litestar gives every file: size and modification time).
Without ``Cache-Control`` a browser guessed from ``Last-Modified`` and could keep yesterday's
script after a release (the kiosk has no service worker to version it); Litestar's file
responses carry an ETag but do not answer conditional requests."""

from __future__ import annotations

from typing import Any

from litestar.datastructures import MutableScopeHeaders

# Headers a 304 repeats (RFC 9110 section 15.4.5): what a cache needs to refresh its copy.
KEEP = {b"etag", b"cache-control", b"vary", b"last-modified", b"date"}


def _matches(if_none_match: bytes, etag: str) -> bool:
    """RFC 9110 weak comparison: ``W/"x"`` and ``"x"`` match; ``*`` matches any current file."""
    tags = [t.strip().removeprefix("W/") for t in if_none_match.decode("latin-1").split(",")]
    return "*" in tags or etag.removeprefix("W/") in tags


class RevalidateMiddleware:
    """Answer a GET or HEAD with 304 when ``If-None-Match`` names the file's current ETag."""

    def __init__(self, app: Any) -> None:
        self.app = app

    async def __call__(self, scope: Any, receive: Any, send: Any) -> None:
        if_none_match = (
            next((v for k, v in scope.get("headers", ()) if k == b"if-none-match"), None)
            if scope["type"] == "http"
            else None
        )
        if if_none_match is None or scope["method"] not in ("GET", "HEAD"):
            await self.app(scope, receive, send)
            return
        not_modified = False

        async def send_or_304(message: Any) -> None:
            nonlocal not_modified
            if message["type"] == "http.response.start":
                etag = MutableScopeHeaders(message).get("etag")
                if message["status"] == 200 and etag and _matches(if_none_match, etag):
                    not_modified = True
                    await send(
                        {
                            "type": "http.response.start",
                            "status": 304,
                            "headers": [(k, v) for k, v in message.get("headers", []) if k.lower() in KEEP],
                        }
                    )
                    await send({"type": "http.response.body", "body": b"", "more_body": False})
                    return
            elif not_modified:
                return  # the file's body: the browser has it
            await send(message)

        await self.app(scope, receive, send_or_304)
