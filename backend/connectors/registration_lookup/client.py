"""The registration lookup client: production's ``platform.registration`` (``RegistrationDirectory``).

- Every request is signed with the platform's current key of the agreed algorithm (ES256, or SM2
  with SM3; ``signing_key_source`` follows the key file's rotation); every answer is verified,
  in that algorithm only, against the registration platform's JWKS (fetched from
  ``/.well-known/jwks.json``, refreshed once when an unknown ``kid`` appears: key rotation) and
  must name our request (``irt``).
- Timeouts on connect and read; network errors, timeouts, 5xx and unverifiable answers are
  retried a few times with a short backoff, then the caller gets 503
  ``registration_lookup_unavailable`` with ``Retry-After``.
- A short cache (``CACHE_SECONDS``) keyed by everything that decides an answer: the path and
  the search body (person id and ID number together). An answer about one person is
  therefore never served for another; only answers (found or not found) are kept, never errors.
"""

from __future__ import annotations

import asyncio
import logging
import time
import uuid
from collections import OrderedDict
from collections.abc import Callable, Mapping
from typing import Any

import httpx
import msgspec

from backend.connectors.client import JWKS_PATH
from backend.connectors.registration_lookup import (
    ENTERPRISE_PATH,
    ENTERPRISE_SEARCH_PATH,
    PERSON_PATH,
    PERSON_SEARCH_PATH,
    EnterpriseList,
    EnterpriseSearch,
    PersonList,
    PersonSearch,
)
from backend.connectors.signing import (
    CLIENT_ID_HEADER,
    SIGNATURE_HEADER,
    SignatureError,
    Signer,
    Verifier,
    peek_kid,
)
from backend.lib.problems import ProblemError
from backend.registration import EnterpriseRecord, PersonRecord

log = logging.getLogger("backend.registration_lookup")

CACHE_SECONDS = 60.0
CACHE_ENTRIES = 2048
RETRY_AFTER_SECONDS = 30
TIMEOUT = httpx.Timeout(5.0, connect=2.0)
BACKOFF = (0.2, 0.6)  # one pause before each retry: three attempts in all


class LookupUnavailable(Exception):
    """The registration platform did not give a verifiable answer."""


def unavailable() -> ProblemError:
    """503 ``registration_lookup_unavailable``: the applicant's input stays where it was."""
    return ProblemError(
        503,
        "registration_lookup_unavailable",
        "企业登记信息系统暂时没有响应，请稍后再试。",
        headers={"Retry-After": str(RETRY_AFTER_SECONDS)},
    )


class RegistrationLookupClient:
    """Looks enterprises and people up at the market regulation platform over the specified interface."""

    def __init__(
        self,
        base_url: str,
        *,
        client_id: str,
        signing_key: Mapping[str, Any],
        signing_key_source: Callable[[], Mapping[str, Any]] | None = None,
        system_jwks: Mapping[str, Any] | None = None,
        cache_seconds: float = CACHE_SECONDS,
        transport: httpx.AsyncBaseTransport | None = None,
        backoff: tuple[float, ...] = BACKOFF,
    ) -> None:
        self.base_url = base_url.rstrip("/")
        self.client_id = client_id
        self._signer = Signer(signing_key)
        self._signing_key_source = signing_key_source
        self._algorithms = (self._signer.alg,)  # answers are trusted in the algorithm we sign with only
        self._static_jwks = system_jwks is not None
        self._verifier = Verifier(system_jwks, self._algorithms) if system_jwks is not None else None
        self._jwks_lock = asyncio.Lock()
        self._cache: OrderedDict[tuple[str, bytes], tuple[float, bytes | None]] = OrderedDict()
        self.cache_seconds = cache_seconds
        self.backoff = backoff
        self._http = httpx.AsyncClient(timeout=TIMEOUT, transport=transport)

    async def aclose(self) -> None:
        """Close pooled connections."""
        await self._http.aclose()

    # -- the RegistrationDirectory protocol ---------------------------------------------------
    async def enterprise(self, uscc: str) -> EnterpriseRecord | None:
        """The enterprise's record, or None when the registration platform knows no such USCC."""
        body = await self._lookup("GET", f"{ENTERPRISE_PATH}/{uscc}")
        return None if body is None else msgspec.json.decode(body, type=EnterpriseRecord)

    async def enterprises_of(self, person_id: str | None, id_number: str | None) -> list[EnterpriseRecord]:
        """Every enterprise whose record names this person."""
        if not person_id and not id_number:
            return []
        query = msgspec.json.encode(EnterpriseSearch(person_id=person_id or None, id_number=id_number or None))
        body = await self._lookup("POST", ENTERPRISE_SEARCH_PATH, query)
        return [] if body is None else msgspec.json.decode(body, type=EnterpriseList).enterprises

    async def person(self, person_id: str) -> PersonRecord | None:
        body = await self._lookup("GET", f"{PERSON_PATH}/{person_id}")
        return None if body is None else msgspec.json.decode(body, type=PersonRecord)

    async def person_by_id_number(self, id_number: str) -> PersonRecord | None:
        body = await self._lookup("POST", PERSON_SEARCH_PATH, msgspec.json.encode(PersonSearch(id_number=id_number)))
        if body is None:
            return None
        persons = msgspec.json.decode(body, type=PersonList).persons
        return persons[0] if persons else None

    # -- plumbing -------------------------------------------------------------------------------
    async def _lookup(self, method: str, path: str, body: bytes = b"") -> bytes | None:
        """The verified answer's body (None for 404), from the cache when fresh; 503 problem when unreachable."""
        key = (path, body)  # what decides the answer: the path (USCC, person id) and the search body
        hit = self._cache.get(key)
        now = time.monotonic()
        if hit is not None and hit[0] > now:
            self._cache.move_to_end(key)
            return hit[1]
        started = time.perf_counter()
        attempts = len(self.backoff) + 1
        for attempt in range(attempts):
            try:
                status, content = await self._call(method, path, body)
            except LookupUnavailable as exc:
                if attempt + 1 == attempts:
                    log.warning(
                        "registration lookup unavailable",
                        extra={"path": path.split("/")[3], "error": str(exc), "attempts": attempts},
                    )
                    raise unavailable() from exc
                await asyncio.sleep(self.backoff[attempt])
                continue
            result = None if status == 404 else content
            self._remember(key, result)
            log.debug("registration lookup", extra={"duration_ms": round((time.perf_counter() - started) * 1000, 1)})
            return result
        raise unavailable()  # pragma: no cover - the loop returns or raises

    def _remember(self, key: tuple[str, bytes], value: bytes | None) -> None:
        if self.cache_seconds <= 0:
            return
        self._cache[key] = (time.monotonic() + self.cache_seconds, value)
        self._cache.move_to_end(key)
        while len(self._cache) > CACHE_ENTRIES:
            self._cache.popitem(last=False)

    async def _call(self, method: str, path: str, body: bytes) -> tuple[int, bytes]:
        """One signed request; the verified (status, body) of a 200 or 404, else ``LookupUnavailable``."""
        key = uuid.uuid4().hex
        signature, jti = self._current_signer().sign(body, htm=method, htu=path, idk=key)
        headers = {SIGNATURE_HEADER: signature, CLIENT_ID_HEADER: self.client_id, "Accept": "application/json"}
        if body:
            headers["Content-Type"] = "application/json"
            headers["Idempotency-Key"] = key
        try:
            response = await self._http.request(method, self.base_url + path, content=body or None, headers=headers)
        except httpx.HTTPError as exc:  # connect errors, timeouts, dropped connections
            raise LookupUnavailable(f"network error: {type(exc).__name__}") from exc
        if response.status_code not in (200, 404):
            # 5xx and 429 are the platform being down or busy; 401/403/400 mean our side is
            # misconfigured, which the applicant cannot fix either: both are "not answering".
            raise LookupUnavailable(f"HTTP {response.status_code}")
        verifier = await self._verifier_for(response.headers.get(SIGNATURE_HEADER))
        try:
            header = verifier.verify(response.headers.get(SIGNATURE_HEADER), response.content)
        except SignatureError as exc:
            raise LookupUnavailable(f"unverifiable answer ({exc.code})") from exc
        if header.get("irt") != jti:
            raise LookupUnavailable("answer to another request")
        return response.status_code, response.content

    def _current_signer(self) -> Signer:
        """The signer of the key file's current key (a new one after rotation, without a restart)."""
        if self._signing_key_source is not None:
            current = self._signing_key_source()
            if current.get("kid") != self._signer.kid:
                self._signer = Signer(current)
        return self._signer

    async def _verifier_for(self, signature: str | None) -> Verifier:
        verifier = await self._load_jwks()
        kid = peek_kid(signature)
        if kid and not verifier.has_kid(kid) and not self._static_jwks:
            verifier = await self._load_jwks(force=True)  # the registration platform rotated its key
        return verifier

    async def _load_jwks(self, *, force: bool = False) -> Verifier:
        if self._verifier is not None and (self._static_jwks or not force):
            return self._verifier
        async with self._jwks_lock:
            try:
                response = await self._http.get(self.base_url + JWKS_PATH)
                response.raise_for_status()
                self._verifier = Verifier(response.json(), self._algorithms)
            except (httpx.HTTPError, ValueError, TypeError) as exc:
                raise LookupUnavailable(f"JWKS unavailable: {type(exc).__name__}") from exc
            return self._verifier
