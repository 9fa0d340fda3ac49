"""Security headers sent by the app itself (defence in depth: nginx in ``infra/`` sets its own too).

Every response gets ``X-Content-Type-Options``, ``X-Frame-Options``, ``Referrer-Policy``,
``Permissions-Policy`` and ``Cross-Origin-Opener-Policy``, ``Strict-Transport-Security`` when
``PUBLIC_URL`` is https, and the strictest Content Security Policy its page works under:

- the PWA, the kiosk and the back office load only their own scripts, styles and data (no
  inline script or style anywhere); the kiosk may also reach its terminal's local device
  bridge (``http://127.0.0.1:<port>``, ``kiosk/bridge.js``);
- an HTML page the server renders (the API docs at ``/schema``, the printable guides, the test
  environment's pages) may run exactly the inline ``<script>`` and ``<style>`` blocks it was
  sent with: their SHA-256 hashes are computed from the page itself, so Swagger UI's inline
  start-up script runs and nothing injected does;
- everything else (JSON, downloads) may load nothing at all.

A header a handler set itself (a download's own ``X-Content-Type-Options``) is left as it is.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import re
import zlib
from typing import TYPE_CHECKING

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send

FRAME = "frame-ancestors 'none'"
_COMMON = "base-uri 'none'; object-src 'none'; form-action 'self'; " + FRAME
_APP = (
    "default-src 'none'; script-src 'self'; style-src 'self'; img-src 'self' data: blob:; font-src 'self'; "
    "manifest-src 'self'; worker-src 'self'; "
)
PWA_CSP = _APP + "connect-src 'self'; " + _COMMON
STAFF_CSP = PWA_CSP
KIOSK_CSP = _APP + "connect-src 'self' http://127.0.0.1:* http://localhost:*; " + _COMMON
API_CSP = "default-src 'none'; " + FRAME
"""For JSON and downloads: a document opened from here (a PDF, say) can run and load nothing."""

PERMISSIONS = (
    "camera=(), microphone=(), geolocation=(), payment=(), usb=(), serial=(), hid=(), bluetooth=(), "
    "accelerometer=(), gyroscope=(), magnetometer=(), midi=(), display-capture=(), fullscreen=(self)"
)
HSTS = "max-age=31536000; includeSubDomains"

# First path segments that are the API, its docs or the test environment rather than the PWA.
_NOT_PWA = {
    "api",
    "auth",
    "sandbox",
    "schema",
    "healthz",
    "readyz",
    "livez",
    "metrics",
    "vendor",
    "sim",
    "simulators",
}
_INLINE = re.compile(rb"<(script|style)\b([^>]*)>(.*?)</\1\s*>", re.DOTALL | re.IGNORECASE)
_MAX_HASHED_HTML = 4 * 1024 * 1024


def _first_segment(path: str) -> str:
    return path.lstrip("/").split("/", 1)[0]


def front_end_csp(path: str) -> str | None:
    """The policy of a front end's file (page, script, worker) by its path; None outside them."""
    first = _first_segment(path)
    if first == "kiosk":
        return KIOSK_CSP
    if first == "staff":
        return STAFF_CSP
    if first == "shared" or first not in _NOT_PWA:
        return PWA_CSP
    return None


def _sha256(source: bytes) -> str:
    return "'sha256-" + base64.b64encode(hashlib.sha256(source).digest()).decode() + "'"


def document_csp(html: bytes) -> str:
    """The policy of a server-rendered page: its own inline scripts and styles, by hash, and same-origin files."""
    scripts, styles = [], []
    for tag, attributes, body in _INLINE.findall(html):
        if tag.lower() == b"script" and b"src=" not in attributes.lower():
            scripts.append(_sha256(body))
        elif tag.lower() == b"style":
            styles.append(_sha256(body))
    script_src = " ".join(["'self'", *sorted(set(scripts))])
    style_src = " ".join(["'self'", *sorted(set(styles))])
    return (
        f"default-src 'none'; script-src {script_src}; style-src {style_src}; img-src 'self' data:; "
        f"font-src 'self'; connect-src 'self'; " + _COMMON
    )


def _decoded(body: bytes, encoding: str) -> bytes | None:
    if not encoding or encoding == "identity":
        return body
    try:
        if encoding == "gzip":
            return gzip.decompress(body)
        if encoding == "deflate":
            return zlib.decompress(body)
    except (OSError, zlib.error, EOFError):
        return None
    return None  # an encoding we cannot read: no inline source is allowed


def security_headers_middleware(app: ASGIApp, *, https: bool) -> ASGIApp:
    """ASGI middleware adding the headers above to every HTTP response."""
    fixed = [
        (b"x-content-type-options", b"nosniff"),
        (b"x-frame-options", b"DENY"),
        (b"referrer-policy", b"same-origin"),
        (b"permissions-policy", PERMISSIONS.encode()),
        (b"cross-origin-opener-policy", b"same-origin"),
    ]
    if https:
        fixed.append((b"strict-transport-security", HSTS.encode()))

    def with_headers(headers: list, csp: str) -> list:
        present = {name.lower() for name, _ in headers}
        extra = [(n, v) for n, v in fixed if n not in present]
        if b"content-security-policy" not in present:
            extra.append((b"content-security-policy", csp.encode()))
        return [*headers, *extra]

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        path = scope.get("path", "")
        page_policy = front_end_csp(path)
        held: dict = {}
        chunks: list[bytes] = []

        async def send_with_headers(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                content_type = next((v for n, v in headers if n.lower() == b"content-type"), b"").lower()
                if page_policy is None and content_type.startswith(b"text/html") and scope.get("method") != "HEAD":
                    held["start"] = {**message, "headers": headers}  # hashed once the whole page is here
                    return
                message["headers"] = with_headers(headers, page_policy or API_CSP)
                await send(message)
                return
            if message["type"] == "http.response.body" and "start" in held:
                chunks.append(message.get("body", b""))
                if message.get("more_body") and sum(map(len, chunks)) <= _MAX_HASHED_HTML:
                    return
                start = held.pop("start")
                body = b"".join(chunks)
                encoding = next(
                    (
                        v.decode("latin-1").strip().lower()
                        for n, v in start["headers"]
                        if n.lower() == b"content-encoding"
                    ),
                    "",
                )
                html = _decoded(body, encoding)
                csp = document_csp(html) if html is not None else document_csp(b"")
                start["headers"] = with_headers(start["headers"], csp)
                await send(start)
                await send({**message, "body": body})
                return
            await send(message)

        await app(scope, receive, send_with_headers)

    return middleware
