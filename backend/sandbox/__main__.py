"""``python -m backend.sandbox --port N``: run the test environment alone on 127.0.0.1."""

from __future__ import annotations

import argparse
import sys


def main(argv: list[str] | None = None) -> int:
    """Start every simulator under /sim/<system> and the /sandbox endpoints."""
    parser = argparse.ArgumentParser(prog="python -m backend.sandbox", description="测试环境 / test environment")
    parser.add_argument("--host", default="127.0.0.1")
    parser.add_argument("--port", type=int, default=8900)
    parser.add_argument("--processing-seconds", type=float, default=2.0, help="simulated processing time per item")
    parser.add_argument(
        "--trust",
        action="append",
        default=[],
        metavar="CLIENT_ID=JWKS_FILE",
        help=(
            "trust this client's public JWKS (repeatable); otherwise clients register at "
            "/sim/<system>/admin/clients/<id>"
        ),
    )
    parser.add_argument(
        "--access-log",
        action="store_true",
        help="log every request (off by default: a line per agency call costs more than the call)",
    )
    parser.add_argument("--closed-registration", action="store_true", help="refuse self-service key registration")
    parser.add_argument(
        "--identity-provider",
        metavar="DATA_DIR",
        help="also play the identity side (OIDC provider under /sandbox/oidc, face, signature, seal, licence) "
        "for a platform whose own test environment is off; its keys and one-time codes live in DATA_DIR. "
        "Reads OIDC_CLIENT_ID, OIDC_CLIENT_SECRET and OIDC_REDIRECT_URI (the platform's /auth/callback)",
    )
    parser.add_argument("--public-url", default="", help="this process's URL as the platform reaches it")
    parser.add_argument(
        "--signature-algorithms",
        default=None,
        metavar="CODE=ALG,...",
        help="sign as these systems with ES256 or SM2 instead of their spec's algorithm, e.g. '*=SM2' "
        "(default: SIGNATURE_ALGORITHMS from the environment, else each spec's own)",
    )
    parser.add_argument(
        "--classic",
        action="store_true",
        help="the interface standard's classic form: an accepted callback, one callback per event "
        "(default: lean, 受理 in the answer and batch callbacks; per simulator: PUT /sim/<system>/admin/protocol)",
    )
    args = parser.parse_args(argv)

    import json
    import logging
    from pathlib import Path

    import uvicorn

    from backend.lib.logging import configure_logging
    from backend.settings import get_settings

    configure_logging("INFO", get_settings().log_format)  # one masked format (LOG_FORMAT), as the platform's
    logging.getLogger("uvicorn.access").disabled = not args.access_log
    from backend.sandbox.mount import create_sandbox_app

    clients = {}
    for item in args.trust:
        client_id, _, path = item.partition("=")
        clients[client_id] = json.loads(Path(path).read_text())
    identity = None
    if args.identity_provider:
        from backend.app import build_platform
        from backend.sandbox.identity_host import identity_provider

        identity = identity_provider(
            Path(args.identity_provider), args.public_url or f"http://{args.host}:{args.port}", build_platform
        )
    if args.signature_algorithms is None:
        args.signature_algorithms = get_settings().signature_algorithms
    app = create_sandbox_app(
        processing_seconds=args.processing_seconds,
        signature_algorithms=args.signature_algorithms,
        clients=clients,
        open_registration=not args.closed_registration,
        identity_platform=identity,
        lean=not args.classic,
    )
    print(
        f"test environment on http://{args.host}:{args.port} — simulators under /sim/<system>, fixtures under /sandbox"
    )
    uvicorn.run(
        app, host=args.host, port=args.port, log_config=None, access_log=args.access_log, timeout_graceful_shutdown=3
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
