"""``python -m backend keys {signing|identity} {create,add,promote,retire,list}``: the shared key files.

``signing`` is the platform's key set for signing to agencies (``SIGNING_KEY_FILE``; its public
keys are published at ``/.well-known/jwks.json``): two rings, ``signing`` (ES256) and
``signing-sm2`` (SM2 with SM3, for the systems whose interface asks for 国密 signatures); each
command acts on both (``--alg`` limits it to one) and prints one kid per ring. ``identity`` holds
the platform's session and token key (``IDENTITY_KEYS_FILE``). Rotation, with every process
following the file:

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

from backend.lib import keyring
from backend.settings import get_settings

#: target → its rings: (ring name, kid prefix, JWS alg); the first is the file's default ring
TARGETS = {
    "signing": [("signing", "yjs-platform", "ES256"), ("signing-sm2", "yjs-platform-sm2", "SM2SM3")],
    "identity": [("platform", "platform", "ES256")],
}
_ALG_NAMES = {"ES256": "ES256", "SM2": "SM2SM3", "SM2SM3": "SM2SM3"}


def _default_path(target: str) -> Path:
    settings = get_settings()
    if target == "signing":
        from backend.integration import signing_key_path  # the connectors' stack: only when no --file is given

        return signing_key_path(settings)
    return Path(settings.identity_keys_file or Path(settings.data_dir) / "identity-keys.json")


def main(argv: list[str]) -> int:
    """Run one key command; prints the kids it made or changed, one per ring (or the listing as JSON)."""
    parser = argparse.ArgumentParser(
        prog="python -m backend keys", description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter
    )
    parser.add_argument("target", choices=sorted(TARGETS))
    parser.add_argument("action", choices=["create", "add", "promote", "retire", "list"])
    parser.add_argument("kid", nargs="?", help="the key to promote (default: the next one of each ring) or retire")
    parser.add_argument("--file", type=Path, help="the key set file (default: SIGNING_KEY_FILE or IDENTITY_KEYS_FILE)")
    parser.add_argument("--alg", choices=["ES256", "SM2"], help="act on this algorithm's ring only (signing)")
    args = parser.parse_args(argv)
    rings = TARGETS[args.target]
    default_ring = rings[0][0]
    if args.alg:
        rings = [r for r in rings if r[2] == _ALG_NAMES[args.alg]]
        if not rings:
            parser.error(f"{args.target} has no {args.alg} keys")
    path = args.file or _default_path(args.target)
    try:
        if args.action == "create":
            (ring, prefix, alg), *more = rings
            kids = keyring.create(path, ring, prefix, alg, {r: (p, a) for r, p, a in more})
        elif args.action == "list":
            print(json.dumps(keyring.listing(path, default_ring), indent=1))
            return 0
        else:
            # A file from before SM2 gains the missing ring first (its first key current: nothing
            # verified with it yet); then the action applies to every ring.
            kids = keyring.ensure_rings(path, default_ring, {r: (p, a) for r, p, a in rings[1:]})
            if args.action == "add":
                kids += [keyring.add(path, ring, prefix) for ring, prefix, _ in rings]
            elif args.action == "promote":
                owner = _ring_of(path, default_ring, args.kid) if args.kid else None
                kids += [keyring.promote(path, r, args.kid) for r, _, _ in rings if owner in (None, r)]
            else:
                if not args.kid:
                    parser.error("retire needs the kid of the key to retire")
                keyring.retire(path, _ring_of(path, default_ring, args.kid) or default_ring, args.kid)
                kids += [args.kid]
        print("\n".join(kids))
    except keyring.KeyFileError as exc:
        print(f"keys: {exc}", file=sys.stderr)
        return 1
    return 0


def _ring_of(path: Path, default_ring: str, kid: str) -> str | None:
    """The ring holding ``kid`` (None if none does)."""
    return next((k["ring"] for k in keyring.listing(path, default_ring) if k["kid"] == kid), None)
