"""The API docs page (/schema) without inline script or style, so it renders under a strict CSP.

Litestar's Swagger UI page inlines the whole OpenAPI document into a <script>: its hash would
change with every API change, and a nonce would need the proxy to rewrite the page. Here the
page loads its initializer from ``/shared/swagger-init.js``, which fetches the document from
``/schema/openapi.json``: ``script-src 'self'`` is enough (infra/nginx.conf).
"""

from __future__ import annotations

import html
from typing import Any

from litestar import Request
from litestar.openapi.plugins import SwaggerRenderPlugin

INITIALIZER = "/shared/swagger-init.js"


class ScriptlessSwaggerPlugin(SwaggerRenderPlugin):
    """Swagger UI from our own files, its settings in a file of ours: nothing inline."""

    def render(self, request: Request, openapi_schema: dict[str, Any]) -> bytes:
        """The page: stylesheet, bundle, preset and initializer, all by URL."""
        title = html.escape(str(openapi_schema["info"]["title"]))
        return (
            "<!DOCTYPE html>"
            f'<html lang="zh-CN"><head><title>{title}</title><meta charset="utf-8">'
            '<meta name="viewport" content="width=device-width, initial-scale=1">'
            f'<link href="{self.css_url}" rel="stylesheet">'
            f'<script src="{self.js_url}" defer></script>'
            f'<script src="{self.standalone_preset_js_url}" defer></script>'
            f'<script src="{INITIALIZER}" defer></script>'
            '</head><body><div id="swagger-container"></div></body></html>'
        ).encode()
