"""``python -m backend keys {signing|identity} {create,add,promote,retire,list}``: the shared key files.

``signing`` is the platform's key for signing to agencies (``SIGNING_KEY_FILE``; its public
keys are published at ``/.well-known/jwks.json``); ``identity`` holds the platform's session
and token key (``IDENTITY_KEYS_FILE``). Rotation, with every process following the file:

1. ``add``: a ``next`` key, published and accepted but not signing. Wait until agencies have
   refreshed our JWKS (they re-fetch on an unknown ``kid``) and every process re-read the file.
2. ``promote``: the next key signs from now on; the old one becomes ``previous``, still accepted.
3. ``retire KID``: once nothing signed by the old key is still valid (access tokens live
   ``ACCESS_TOKEN_TTL``, agency messages minutes), it is no longer accepted or published.
"""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path

from backend.integration import signing_key_path
from backend.lib import keyring
from backend.settings import get_settings

#: target → (ring name, kid prefix)
TARGETS = {"signing": ("signing", "yjs-platform"), "identity": ("platform", "platform")}


def _default_path(target: str) -> Path:

    settings = get_settings()
    if target == "signing":
        return signing_key_path(settings)
    return Path(settings.identity_keys_file or Path(settings.data_dir) / "identity-keys.json")


def main(argv: list[str]) -> int:
    """Run one key command; prints the kid it made or changed (or the listing as JSON)."""
    parser = argparse.ArgumentParser(
        prog="python -m backend keys", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("target", choices=sorted(TARGETS))
    parser.add_argument("action", choices=["create", "add", "promote", "retire", "list"])
    parser.add_argument("kid", nargs="?", help="the key to promote (default: the next one) or retire")
    parser.add_argument("--file", type=Path, help="the key set file (default: SIGNING_KEY_FILE or IDENTITY_KEYS_FILE)")
    args = parser.parse_args(argv)
    ring, prefix = TARGETS[args.target]
    path = args.file or _default_path(args.target)
    try:
        if args.action == "create":
            print(keyring.create(path, ring, prefix))
        elif args.action == "add":
            print(keyring.add(path, ring, prefix))
        elif args.action == "promote":
            print(keyring.promote(path, ring, args.kid))
        elif args.action == "retire":
            if not args.kid:
                parser.error("retire needs the kid of the key to retire")
            keyring.retire(path, ring, args.kid)
            print(args.kid)
        else:
            print(json.dumps(keyring.listing(path, ring), indent=1))
    except keyring.KeyFileError as exc:
        print(f"keys: {exc}", file=sys.stderr)
        return 1
    return 0
