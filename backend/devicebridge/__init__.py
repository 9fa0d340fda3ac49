"""The kiosk terminal's device bridge (终端外设桥): card reader, camera, QR scanner, receipt printer.

On a real terminal the bridge is a small local HTTP service (``http://127.0.0.1:<port>``)
that the kiosk page calls; its interface is documented in ``README.md``. This package holds
the test environment's simulator of that interface, mounted under ``/sandbox/device`` on the
platform (same origin as the kiosk page), with extra QA-only routes to choose which fixture
person's ID card lies on the reader, whether the camera sees a matching face, what the
scanner reads, and to read back what the printer printed.
"""

from backend.devicebridge.simulator import SANDBOX_ROUTES, BridgeState, bridge_state

__all__ = ["SANDBOX_ROUTES", "BridgeState", "bridge_state"]
