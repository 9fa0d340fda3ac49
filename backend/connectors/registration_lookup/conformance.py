"""Conformance checks for the registration lookup (企业登记信息查询): the kit's checks for the market
regulation platform's enterprise information.

    python -m backend.connectors.conformance --system registration --base-url http://127.0.0.1:8900/sim/registration

Same key handling and report as the agency kit (``conformance.py``, which hands ``registration``
here); the lookups go through the platform's own client (``client.py``), so an answer passes only
when production would believe it: signed in the agreed algorithm only, verified against the
published JWKS, naming our request (``irt``). The checks: JWKS published with a key of the agreed
algorithm and no private parts; answers signed in that algorithm and a request in the other one
refused; a known enterprise (``--uscc``) answers 200 with an ``EnterpriseRecord`` holding every
field the spec requires; an unknown USCC answers a signed 404; a known person (``--person-id``)
answers 200; the person search and the enterprise search are POSTs with the ID number
(``--id-number``) in the body, never in the URL, and answer decodable lists about that person
only; unsigned requests, forged and expired signatures, and a signature bound to another method
or path (``htm``/``htu``) get 401. The defaults are the test environment's fixture enterprise and
its legal representative, which a province's test system must hold.
"""

from __future__ import annotations

import json
from typing import Any

import msgspec

from backend.connectors.client import Credentials
from backend.connectors.conformance import (
    Check,
    algorithm_checks,
    published_jwks,
    raw_requests,
    refuses_forged_and_expired,
    refuses_unsigned,
    signed_headers,
)
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
from backend.connectors.registration_lookup.client import RegistrationLookupClient
from backend.connectors.signing import key_alg
from backend.fixtures import load_fixtures
from backend.registration import EnterpriseRecord, PersonRecord, same_person

#: The fixture enterprise the kit looks up unless ``--uscc`` says otherwise (福州榕鑫贸易有限公司) ...
DEFAULT_USCC = "91350102MA0102003U"
#: ... and the fixture person (its legal representative) unless ``--person-id`` says otherwise.
DEFAULT_PERSON = "P002"
#: A well-formed USCC (valid check digit, GB 32100-2015) that no fixture enterprise holds.
UNKNOWN_USCC = "91350102MA9999999F"


def fixture_id_number(person_id: str) -> str | None:
    """The ID number the test environment's fixtures give ``person_id`` (None if not a fixture person)."""
    return next((p.id_number for p in load_fixtures().people if p.id == person_id), None)


class RegistrationConformanceRun:
    """Runs the registration lookup's contract checks at one base URL."""

    def __init__(
        self,
        base_url: str,
        credentials: Credentials,
        *,
        other_key: dict[str, Any] | None = None,
        uscc: str | None = None,
        person_id: str | None = None,
        id_number: str | None = None,
    ) -> None:
        from backend.connectors.registration_lookup.spec import openapi_document

        self.base_url = base_url.rstrip("/")
        self.credentials = credentials
        #: a key of the algorithm the system must *not* accept (registered beside ours when we register)
        self.other_key = other_key
        self.alg = key_alg(credentials.signing_key)
        self.uscc = uscc or DEFAULT_USCC
        self.person_id = person_id or DEFAULT_PERSON
        #: ``--person-id`` and ``--id-number`` name one person; by default the fixtures' ID number of that person
        self.id_number = id_number or fixture_id_number(self.person_id)
        # The production client, uncached and without retries: it signs with our key, believes answers
        # in our algorithm only (against the published JWKS) and checks that they name our request.
        self.lookup = RegistrationLookupClient(
            self.base_url,
            client_id=credentials.client_id,
            signing_key=credentials.signing_key,
            cache_seconds=0,
            backoff=(),
        )
        self.send = raw_requests(self.base_url)
        self.schemas: dict[str, Any] = openapi_document()["components"]["schemas"]
        self.record: EnterpriseRecord | None = None

    async def aclose(self) -> None:
        await self.lookup.aclose()

    # -- helpers ----------------------------------------------------------------------------
    async def _signed(self, method: str, path: str, body: bytes = b"") -> tuple[int, bytes]:
        """A signed request's verified ``(status, body)`` (200 or 404); ``LookupUnavailable`` says why not."""
        return await self.lookup._call(method, path, body)

    def _require(self, doc: Any, schema: str) -> None:
        """``doc`` holds every field the published spec requires of ``schema``."""
        assert isinstance(doc, dict), f"{schema} is not a JSON object"
        missing = [f for f in self.schemas[schema].get("required", []) if f not in doc]
        assert not missing, f"{schema} lacks the required field(s) {', '.join(missing)}"

    def _person_search(self) -> bytes:
        assert self.id_number, f"no ID number for person {self.person_id}: give --id-number"
        return msgspec.json.encode(PersonSearch(id_number=self.id_number))

    @property
    def _enterprise_path(self) -> str:
        return f"{ENTERPRISE_PATH}/{self.uscc}"

    # -- the checks ---------------------------------------------------------------------------
    async def check_jwks(self) -> str:
        return await published_jwks(self.base_url, self.alg)

    async def check_signature_algorithm(self) -> str:
        return await algorithm_checks(
            self.send, PERSON_SEARCH_PATH, self._person_search(), self.credentials, self.alg, self.other_key
        )

    async def check_enterprise(self) -> str:
        status, content = await self._signed("GET", self._enterprise_path)
        assert status == 200, f"enterprise {self.uscc} answered HTTP {status} (the test system must hold it)"
        doc = json.loads(content)
        self._require(doc, "EnterpriseRecord")
        for party in doc["parties"]:
            self._require(party, "Party")
        record = msgspec.json.decode(content, type=EnterpriseRecord)
        assert record.uscc == self.uscc, f"asked for {self.uscc}, answered {record.uscc}"
        self.record = record
        return (
            f"{record.name}, {len(record.parties)} people on the record: an EnterpriseRecord with the spec's "
            f"required fields; signed {self.alg}, verified, irt names our request"
        )

    async def check_unknown_enterprise(self) -> str:
        status, _ = await self._signed("GET", f"{ENTERPRISE_PATH}/{UNKNOWN_USCC}")
        assert status == 404, f"unknown USCC {UNKNOWN_USCC} answered HTTP {status}"
        return f"{UNKNOWN_USCC}: HTTP 404, signed {self.alg} (verified, irt)"

    async def check_person(self) -> str:
        status, content = await self._signed("GET", f"{PERSON_PATH}/{self.person_id}")
        assert status == 200, f"person {self.person_id} answered HTTP {status} (the test system must hold them)"
        self._require(json.loads(content), "PersonRecord")
        person = msgspec.json.decode(content, type=PersonRecord)
        assert person.person_id == self.person_id, f"asked for {self.person_id}, answered {person.person_id}"
        assert not self.id_number or person.id_number == self.id_number, (
            "the person's ID number is not the one searched for (--person-id and --id-number name one person)"
        )
        return f"{self.person_id}: a PersonRecord, signed and verified"

    async def check_person_search(self) -> str:
        status, content = await self._signed("POST", PERSON_SEARCH_PATH, self._person_search())
        assert status == 200, f"person search answered HTTP {status}"
        persons = msgspec.json.decode(content, type=PersonList).persons
        assert len(persons) == 1, f"{len(persons)} persons for a known ID number (the spec: at most one)"
        assert persons[0].id_number == self.id_number, "answered with another person"
        assert persons[0].person_id == self.person_id, f"answered person {persons[0].person_id}, not {self.person_id}"
        return "POST with the ID number in the body (never in the URL): a PersonList of that person"

    async def check_enterprise_search(self) -> str:
        search = EnterpriseSearch(person_id=self.person_id, id_number=self.id_number)
        status, content = await self._signed("POST", ENTERPRISE_SEARCH_PATH, msgspec.json.encode(search))
        assert status == 200, f"enterprise search answered HTTP {status}"
        enterprises = msgspec.json.decode(content, type=EnterpriseList).enterprises
        strangers = [
            e.uscc for e in enterprises if not any(same_person(p, self.person_id, self.id_number) for p in e.parties)
        ]
        assert not strangers, f"enterprise(s) not naming the person: {', '.join(strangers)}"
        found = {e.uscc for e in enterprises}
        if self.record is not None and any(same_person(p, self.person_id, self.id_number) for p in self.record.parties):
            assert self.uscc in found, f"{self.uscc} names the person but is not among their enterprises"
        return (
            f"POST with the person id and ID number in the body: an EnterpriseList, {len(enterprises)} "
            "enterprise(s), each naming the person" + (f", {self.uscc} among them" if self.uscc in found else "")
        )

    async def check_unsigned(self) -> str:
        client_id = self.credentials.client_id
        await refuses_unsigned(self.send, "GET", self._enterprise_path, b"", client_id)
        await refuses_unsigned(self.send, "POST", PERSON_SEARCH_PATH, self._person_search(), client_id)
        return "GET and POST: HTTP 401"

    async def check_forged_and_expired(self) -> str:
        return await refuses_forged_and_expired(self.send, "GET", self._enterprise_path, b"", self.credentials)

    async def check_signature_scope(self) -> str:
        key, client_id = self.credentials.signing_key, self.credentials.client_id
        elsewhere = f"{PERSON_PATH}/{self.person_id}"
        headers = signed_headers(key, client_id, "GET", self._enterprise_path, b"", htu=elsewhere)
        r = await self.send("GET", self._enterprise_path, b"", headers)
        assert r.status_code == 401, f"a signature for GET {elsewhere} was answered HTTP {r.status_code}"
        body = self._person_search()
        headers = signed_headers(key, client_id, "POST", PERSON_SEARCH_PATH, body, htm="GET")
        r = await self.send("POST", PERSON_SEARCH_PATH, body, headers)
        assert r.status_code == 401, f"a signature for GET {PERSON_SEARCH_PATH} was answered HTTP {r.status_code}"
        return "signed for another path (htu) or method (htm): HTTP 401"

    def checks(self) -> list[Check]:
        """The checks in order."""
        return [
            ("jwks published", self.check_jwks),
            ("signs and accepts only the specified algorithm", self.check_signature_algorithm),
            ("looks up a known enterprise", self.check_enterprise),
            ("unknown enterprise answers a signed 404", self.check_unknown_enterprise),
            ("looks up a known person", self.check_person),
            ("person search by ID number", self.check_person_search),
            ("enterprises of a person", self.check_enterprise_search),
            ("rejects unsigned requests", self.check_unsigned),
            ("rejects forged and expired signatures", self.check_forged_and_expired),
            ("rejects a signature bound to another method or path", self.check_signature_scope),
        ]
