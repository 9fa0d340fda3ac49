"""Signatures per second: ES256 and SM2 with SM3 (国密), as the platform uses them.

For each algorithm: the bare signature over a 1 KiB message (the library alone) and the detached
JWS the interface standard carries (``signing.Signer.sign`` / ``Verifier.verify`` with its header
checks), each for ``BENCH_SIGNATURE_SECONDS`` per figure on one core; and the timeline's hash
functions (SHA-256, SM3) over an event-sized record. Target: SM2 verification keeps up with the
agency traffic one worker process sees (≥ 100 callbacks or answers verified per second).
"""

from __future__ import annotations

import os
import time
from collections.abc import Callable

from bench.harness import target

SECONDS = float(os.environ.get("BENCH_SIGNATURE_SECONDS", "3"))
MESSAGE = b'{"event_id":"e-1","payload":"' + b"x" * 990 + b'"}'  # about 1 KiB, a callback's size


def _rate(fn: Callable[[], object]) -> float:
    fn()  # warm (key import, Z_A cache)
    n, started = 0, time.perf_counter()
    while (elapsed := time.perf_counter() - started) < SECONDS:
        fn()
        n += 1
    return round(n / elapsed, 1)


def run() -> dict:
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.asymmetric import ec

    from backend.connectors.signing import Signer, Verifier, generate_signing_key, jwks_of
    from backend.lib import gmcrypto

    rows: dict[str, dict[str, float]] = {}
    p256 = ec.generate_private_key(ec.SECP256R1())
    der = p256.sign(MESSAGE, ec.ECDSA(hashes.SHA256()))
    rows["ES256"] = {
        "sign_per_s": _rate(lambda: p256.sign(MESSAGE, ec.ECDSA(hashes.SHA256()))),
        "verify_per_s": _rate(lambda: p256.public_key().verify(der, MESSAGE, ec.ECDSA(hashes.SHA256()))),
    }
    sm2 = gmcrypto.SM2Key.generate_key().raw_value
    raw = gmcrypto.sign(sm2, MESSAGE)
    rows["SM2SM3"] = {
        "sign_per_s": _rate(lambda: gmcrypto.sign(sm2, MESSAGE)),
        "verify_per_s": _rate(lambda: gmcrypto.verify(gmcrypto.SM2Native(sm2.public), MESSAGE, raw)),
    }
    for name, alg in (("ES256", "ES256"), ("SM2SM3", "SM2")):
        key = generate_signing_key(f"bench-{name}", alg)
        signer, verifier = Signer(key), Verifier(jwks_of(key))
        token, _ = signer.sign(MESSAGE, htm="POST", htu="/api/v1/submissions", idk="k")
        rows[name]["jws_sign_per_s"] = _rate(lambda s=signer: s.sign(MESSAGE, htm="POST", htu="/x", idk="k"))
        rows[name]["jws_verify_per_s"] = _rate(lambda v=verifier, t=token: v.verify(t, MESSAGE))
    event = MESSAGE[:300]
    hashing = {
        "sha256_per_s": _rate(lambda: gmcrypto.digest("sha256", event)),
        "sm3_per_s": _rate(lambda: gmcrypto.digest("sm3", event)),
    }
    import gmssl_pyx

    return {
        "config": {"seconds_per_figure": SECONDS, "message_bytes": len(MESSAGE), "event_bytes": len(event)},
        "library": {"gmssl-pyx": gmssl_pyx.__version__},
        "algorithms": rows,
        "timeline_hash": hashing,
        "targets": [
            target("SM2 JWS verifications per second", rows["SM2SM3"]["jws_verify_per_s"], 100, at_least=True),
        ],
    }
