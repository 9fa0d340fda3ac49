"""gzip for what a phone downloads in bulk: the front ends' files, the catalog (~25 KB of JSON
that the start page and the kiosk read to list entity types) and the printable guides. The rest
of the API is left uncompressed: its answers are small, and compressing them costs CPU on
every request."""

from __future__ import annotations

from litestar.config.compression import CompressionConfig
from litestar.middleware import DefineMiddleware
from litestar.middleware.compression import CompressionMiddleware

GZIP = DefineMiddleware(CompressionMiddleware, config=CompressionConfig(backend="gzip", gzip_compress_level=6))
