"""Short links with an expiry (``/s/<code>``), so a QR code for a co-signer stays sparse.

A co-signer's signing link carries the request, a nonce, the document's digest and a callback:
hundreds of characters, a QR code too dense for an old phone's camera. The applicant's device
asks for a short link (``POST /api/v1/short-links``) and shows that instead; ``GET /s/<code>``
redirects to the long link until it expires. Only links to this platform or to its signing
provider are shortened (never an open redirector). An expired or unknown code is a readable page
for a browser and an RFC 9457 problem for an API client.
"""

from backend.links.routes import ROUTES

__all__ = ["ROUTES"]
