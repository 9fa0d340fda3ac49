"""Key set files shared by every process of a deployment, with rotation.

A key set file holds named *rings* of keys (``{"rings": {NAME: [entry, ...]}}``); each ring holds
keys of one algorithm (ES256, or SM2 with SM3 for the systems that ask for 国密 signatures: the
platform's signing file has a ``signing`` and a ``signing-sm2`` ring); each entry has a ``kid``,
a ``state`` and the private JWK. States, in the order a key lives them:

- ``next``: published in the JWKS and accepted, not yet used to sign (so verifiers learn it first);
- ``current``: signs (exactly one per ring) and is accepted;
- ``previous``: no longer signs, still published and accepted (tokens and signatures it made
  stay valid until they expire);
- ``retired``: its private key is wiped and it is neither published nor accepted.

Every process re-reads the file when it changes (checked at most every ``reload_seconds``), so
``python -m backend keys`` rotates a running deployment without a restart. Writes go to a
temporary file (mode 0600) renamed over the old one, so a reader never sees half a file.

Two older shapes are still read: a bare private JWK (the platform's former signing key file)
and ``{NAME: JWK}`` (identity's former key file); each becomes a ring with one current key.
"""

from __future__ import annotations

import json
import logging
import os
import threading
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any

from joserfc.jwk import ECKey

from backend.lib.gmcrypto import SM2_ALG, GMKeySet, SM2Key, import_jwk

log = logging.getLogger(__name__)

STATES = ("next", "current", "previous", "retired")
ACCEPTED = ("next", "current", "previous")


class KeyFileError(Exception):
    """A key set file is missing, unreadable or inconsistent."""


#: key algorithms a ring may hold (JWS ``alg`` of its keys)
ALGORITHMS = ("ES256", SM2_ALG)


def new_key(prefix: str, alg: str = "ES256") -> dict[str, Any]:
    """A fresh key entry in state ``next`` with a dated, unique ``kid`` (``alg``: ES256 or SM2SM3)."""
    kid = f"{prefix}-{datetime.now(UTC):%Y%m%d}-{uuid.uuid4().hex[:6]}"
    parameters: Any = {"kid": kid, "use": "sig", "alg": alg}
    if alg == SM2_ALG:
        jwk: Any = SM2Key.generate_key(parameters=parameters)
    elif alg == "ES256":
        jwk = ECKey.generate_key("P-256", parameters=parameters, private=True)
    else:
        raise KeyFileError(f"unknown key algorithm {alg!r} (one of {', '.join(ALGORITHMS)})")
    return {"kid": kid, "state": "next", "created": _now(), "jwk": jwk.as_dict(private=True)}


def ring_alg(entries: list[dict[str, Any]]) -> str:
    """The algorithm of a ring's keys (its current key's; ES256 for the older files without ``alg``)."""
    for entry in entries:
        jwk = entry.get("jwk") or {}
        if entry.get("state") == "current":
            return str(jwk.get("alg") or (SM2_ALG if jwk.get("crv") == "SM2" else "ES256"))
    return "ES256"


def _now() -> str:
    return datetime.now(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


class Ring:
    """One named ring: its current key signs, every accepted key verifies."""

    def __init__(self, name: str, entries: list[dict[str, Any]]) -> None:
        self.name = name
        self.entries = entries
        current = [e for e in entries if e.get("state") == "current"]
        if len(current) != 1:
            raise KeyFileError(f"ring {name!r} has {len(current)} current keys (needs exactly one)")
        bad = [e.get("kid") for e in entries if e.get("state") not in STATES]
        if bad:
            raise KeyFileError(f"ring {name!r}: unknown state for {bad}")
        try:
            self._keys = {e["kid"]: import_jwk(e["jwk"]) for e in entries if e["state"] in ACCEPTED}
        except (KeyError, ValueError, TypeError) as exc:
            raise KeyFileError(f"ring {name!r}: malformed key ({exc})") from exc
        self.current_kid = current[0]["kid"]
        self.alg = ring_alg(entries)
        mixed = [
            e["kid"] for e in entries if e["state"] in ACCEPTED and ring_alg([{**e, "state": "current"}]) != self.alg
        ]
        if mixed:
            raise KeyFileError(f"ring {name!r} mixes algorithms: {mixed} are not {self.alg}")
        self._keyset = GMKeySet(list(self._keys.values()))

    def current(self) -> Any:
        """The key that signs now."""
        return self._keys[self.current_kid]

    def current_jwk(self) -> dict[str, Any]:
        """The current key as a private JWK dict."""
        return self.current().as_dict(private=True)

    def accepted(self) -> GMKeySet:
        """Every key a signature may be verified with (next, current, previous)."""
        return self._keyset

    def public_jwks(self) -> dict[str, Any]:
        """The JWKS to publish: public halves of every accepted key."""
        return {"keys": [k.as_dict(private=False) for k in self._keys.values()]}


def parse(raw: Any, default_ring: str) -> dict[str, list[dict[str, Any]]]:
    """The rings of a key set document (current shape or one of the two older ones)."""
    if not isinstance(raw, dict):
        raise KeyFileError("not a JSON object")
    if "rings" in raw:
        return raw["rings"]
    if "kty" in raw:  # a bare private JWK
        return {default_ring: [_legacy_entry(raw)]}
    return {name: [_legacy_entry(jwk)] for name, jwk in raw.items()}


def _legacy_entry(jwk: dict[str, Any]) -> dict[str, Any]:
    kid = str(jwk.get("kid") or import_jwk(jwk).thumbprint())
    return {"kid": kid, "state": "current", "created": "", "jwk": {**jwk, "kid": kid}}


def read_rings(path: Path, default_ring: str) -> dict[str, Ring]:
    """Load every ring of a key set file; raises ``KeyFileError``."""
    try:
        raw = json.loads(path.read_text())
    except FileNotFoundError as exc:
        raise KeyFileError(f"{path} does not exist") from exc
    except (OSError, ValueError) as exc:
        raise KeyFileError(f"{path} is unreadable ({exc})") from exc
    return {name: Ring(name, entries) for name, entries in parse(raw, default_ring).items()}


def write_rings(path: Path, rings: dict[str, list[dict[str, Any]]], *, exclusive: bool = False) -> bool:
    """Write a key set file atomically with mode 0600; with ``exclusive``, only if none exists (False if one did)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(f".{path.name}.{os.getpid()}.{uuid.uuid4().hex[:6]}.tmp")
    fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    with os.fdopen(fd, "w") as handle:
        json.dump({"rings": rings}, handle, indent=1)
        handle.flush()
        os.fsync(handle.fileno())
    try:
        if exclusive:
            try:
                os.link(tmp, path)  # atomic; fails if another process made the file first
            except FileExistsError:
                return False
        else:
            os.replace(tmp, path)
    finally:
        tmp.unlink(missing_ok=True)
    return True


class KeyFile:
    """A key set file as a running process sees it: read once, re-read when it changes."""

    def __init__(self, path: Path, default_ring: str, reload_seconds: float = 10.0) -> None:
        self.path = path
        self.default_ring = default_ring
        self.reload_seconds = reload_seconds
        self._lock = threading.Lock()
        self._stamp: tuple[int, int, int] | None = None
        self._checked = 0.0
        self._rings: dict[str, Ring] = {}
        self.version = 0  # bumped on every reload, for caches derived from the keys
        self._load()

    def _stat(self) -> tuple[int, int, int]:
        st = os.stat(self.path)
        return (st.st_ino, st.st_mtime_ns, st.st_size)

    def _load(self) -> None:
        stamp = self._stat()
        self._rings = read_rings(self.path, self.default_ring)
        self._stamp = stamp
        self.version += 1

    def rings(self) -> dict[str, Ring]:
        """The rings, re-read first if the file changed (looked at once per ``reload_seconds``)."""
        now = time.monotonic()
        if now - self._checked >= self.reload_seconds:
            with self._lock:
                self._checked = now
                try:
                    if self._stat() != self._stamp:
                        self._load()
                        log.info("key file reloaded", extra={"path": str(self.path)})
                except (OSError, KeyFileError) as exc:
                    # Keep signing with the keys we have rather than stop: the operator sees the error.
                    log.error(
                        "key file unreadable, keeping the loaded keys",
                        extra={"path": str(self.path), "error": str(exc)},
                    )
        return self._rings

    def ring(self, name: str | None = None) -> Ring:
        """One ring (default: the file's own)."""
        rings = self.rings()
        try:
            return rings[name or self.default_ring]
        except KeyError:
            raise KeyFileError(f"{self.path} has no {name or self.default_ring!r} key") from None

    def get(self, name: str) -> Ring | None:
        return self.rings().get(name)


def load_or_create(
    path: Path,
    default_ring: str,
    prefixes: dict[str, str],
    reload_seconds: float = 10.0,
    algorithms: dict[str, str] | None = None,
    add_missing: bool = False,
) -> KeyFile:
    """Open a key set file, creating it (exclusively, so concurrent first starts agree) with one
    current key per ring in ``prefixes`` (ring name → kid prefix; ``algorithms``: ring → alg, default
    ES256) when it does not exist; with ``add_missing``, a ring an existing file lacks is added."""
    algorithms = algorithms or {}
    if not path.exists():
        rings = {}
        for name, prefix in prefixes.items():
            entry = new_key(prefix, algorithms.get(name, "ES256"))
            entry["state"] = "current"
            rings[name] = [entry]
        write_rings(path, rings, exclusive=True)
    elif add_missing:
        ensure_rings(path, default_ring, {n: (p, algorithms.get(n, "ES256")) for n, p in prefixes.items()})
    return KeyFile(path, default_ring, reload_seconds)


# -- rotation (``python -m backend keys``) ----------------------------------------------------
def _load_raw(path: Path, default_ring: str) -> dict[str, list[dict[str, Any]]]:
    try:
        return parse(json.loads(path.read_text()), default_ring)
    except FileNotFoundError as exc:
        raise KeyFileError(f"{path} does not exist (create it first)") from exc


def _save(path: Path, rings: dict[str, list[dict[str, Any]]]) -> None:
    for name, entries in rings.items():
        Ring(name, entries)  # refuse to write an inconsistent ring
    write_rings(path, rings)


def create(
    path: Path, ring: str, prefix: str, alg: str = "ES256", more: dict[str, tuple[str, str]] | None = None
) -> list[str]:
    """A new file with one current key (and one per ring in ``more``: ring → (prefix, alg)); refuses
    to overwrite. Returns the kids."""
    rings: dict[str, list[dict[str, Any]]] = {}
    for name, (pfx, algorithm) in {ring: (prefix, alg), **(more or {})}.items():
        entry = new_key(pfx, algorithm)
        entry["state"] = "current"
        rings[name] = [entry]
    if not write_rings(path, rings, exclusive=True):
        raise KeyFileError(f"{path} exists already (use add/promote to rotate)")
    return [entries[0]["kid"] for entries in rings.values()]


def ensure_rings(path: Path, default_ring: str, wanted: dict[str, tuple[str, str]]) -> list[str]:
    """Add each ring of ``wanted`` (ring → (prefix, alg)) missing from an existing file, with a current
    key (nothing verified with a ring that did not exist, so its first key may sign at once). Returns
    the new kids."""
    rings = _load_raw(path, default_ring)
    made = []
    for name, (prefix, alg) in wanted.items():
        if name not in rings:
            entry = new_key(prefix, alg)
            entry["state"] = "current"
            rings[name] = [entry]
            made.append(entry["kid"])
    if made:
        _save(path, rings)
    return made


def add(path: Path, ring: str, prefix: str) -> str:
    """Add a ``next`` key (published and accepted, not signing yet) of the ring's algorithm. Returns its kid."""
    rings = _load_raw(path, ring)
    entries = rings.setdefault(ring, [])
    if any(e["state"] == "next" for e in entries):
        raise KeyFileError(f"ring {ring!r} has a next key already: promote or retire it first")
    entry = new_key(prefix, ring_alg(entries))
    entries.append(entry)
    _save(path, rings)
    return entry["kid"]


def promote(path: Path, ring: str, kid: str | None = None) -> str:
    """Make a ``next`` key current; the former current key becomes ``previous`` (still accepted)."""
    rings = _load_raw(path, ring)
    entries = rings.get(ring, [])
    candidates = [e for e in entries if e["state"] == "next" and (kid is None or e["kid"] == kid)]
    if len(candidates) != 1:
        raise KeyFileError(f"no next key {kid or ''} to promote in ring {ring!r} (add one first)".replace("  ", " "))
    for entry in entries:
        if entry["state"] == "current":
            entry["state"], entry["demoted"] = "previous", _now()
    candidates[0]["state"], candidates[0]["promoted"] = "current", _now()
    _save(path, rings)
    return candidates[0]["kid"]


def retire(path: Path, ring: str, kid: str) -> None:
    """Stop accepting a ``previous`` (or unused ``next``) key and wipe its private half."""
    rings = _load_raw(path, ring)
    entry = next((e for e in rings.get(ring, []) if e["kid"] == kid), None)
    if entry is None:
        raise KeyFileError(f"ring {ring!r} has no key {kid}")
    if entry["state"] == "current":
        raise KeyFileError(f"{kid} is current: promote another key first")
    entry["state"], entry["retired"], entry["jwk"] = "retired", _now(), None
    _save(path, rings)


def listing(path: Path, ring: str) -> list[dict[str, Any]]:
    """Every ring's keys without their private parts."""
    rings = _load_raw(path, ring)
    return [
        {"ring": name, **{k: v for k, v in e.items() if k != "jwk"}} for name, entries in rings.items() for e in entries
    ]
