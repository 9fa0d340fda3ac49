"""Who may do what: every route of the real app, tried by every role, against an explicit policy.

``POLICY`` names, for each route pattern and method, the roles that may use it. A role that
may must not be turned away (401, 403, or the 404 the case backend gives to those who may not
see a case); a role that may not must be: 401 without credentials, 403 with them, or 404
where the platform hides that the resource exists (``hidden``). Routes authenticated by a
signed message instead of a session (callbacks, terminal assertions) must answer every role
alike: a session grants nothing there.

A route that exists but is not in ``POLICY`` fails ``test_every_route_is_classified``: new
routes must be classified before they ship. The test environment's routes (``/sandbox``,
``/sim``) must not exist at all in production.
"""

from __future__ import annotations

import asyncio
import base64
import json
from dataclasses import dataclass

import httpx
import pytest
from litestar.routes import ASGIRoute, HTTPRoute

from tests.security.support import CASE_USCC, OTHER_USCC, PERSONAS, ROLES, bearer, session_token

ALL = frozenset(ROLES)
SIGNED_IN = ALL - {"anonymous"}
PERSONS = frozenset({"owner", "stranger"})  # natural persons (applicants)
NOT_STAFF = SIGNED_IN - {"agency_staff", "agency_other", "region_other", "window_staff", "admin"}
AGENCY = frozenset({"agency_staff", "agency_other", "region_other"})
STAFF = AGENCY | {"window_staff", "admin"}
OWNER = frozenset({"owner"})
ADMIN = frozenset({"admin"})
CASE_READERS = frozenset({"owner", "agency_staff", "admin"})  # the applicant, its agencies in region, administrators
# a problem report filed by staff-amr: AMR staff anywhere (same agency) and the platform team
FEEDBACK_READERS = frozenset({"agency_staff", "region_other", "admin"})


@dataclass(frozen=True)
class Rule:
    allowed: frozenset[str]
    hidden: bool = False  # refused roles may get 404 (existence not revealed)
    signed: bool = False  # authenticated by a signed message: the session must not matter
    why: str = ""


PUBLIC = Rule(ALL, why="public")
TEST_ENV = Rule(ALL, why="test environment only (absent in production)")
SIGNED = Rule(ALL, signed=True)

# (method, route path as Litestar registers it) → who may use it
POLICY: dict[tuple[str, str], Rule] = {
    # system, catalog, documentation, front ends
    ("GET", "/healthz"): PUBLIC,
    ("GET", "/readyz"): PUBLIC,
    ("GET", "/.well-known/jwks.json"): Rule(ALL, why="public keys agencies verify our signatures with"),
    ("GET", "/metrics"): Rule(ALL, why="no session; nginx allows only the monitoring network"),
    ("GET", "/api/v1/catalog"): PUBLIC,
    ("GET", "/api/v1/divisions"): PUBLIC,
    ("GET", "/api/v1/guides/{entity_type:str}"): PUBLIC,
    ("POST", "/api/v1/plans"): PUBLIC,
    ("GET", "/api/v1/public/transparency"): PUBLIC,
    ("GET", "/api/v1/ratings/scale"): PUBLIC,
    ("GET", "/api/v1/event-types"): PUBLIC,
    ("GET", "/schema"): PUBLIC,
    ("GET", "/schema/swagger"): PUBLIC,
    ("GET", "/schema/openapi.json"): PUBLIC,
    ("GET", "/schema/oauth2-redirect.html"): PUBLIC,
    ("GET", "/schema/{path:str}"): PUBLIC,
    ("GET", "/"): PUBLIC,
    ("HEAD", "/"): PUBLIC,
    ("GET", "/{file_path:path}"): PUBLIC,
    ("HEAD", "/{file_path:path}"): PUBLIC,
    ("GET", "/kiosk"): PUBLIC,
    ("HEAD", "/kiosk"): PUBLIC,
    ("GET", "/kiosk/{file_path:path}"): PUBLIC,
    ("HEAD", "/kiosk/{file_path:path}"): PUBLIC,
    ("GET", "/staff"): PUBLIC,
    ("HEAD", "/staff"): PUBLIC,
    ("GET", "/staff/{file_path:path}"): PUBLIC,
    ("HEAD", "/staff/{file_path:path}"): PUBLIC,
    ("GET", "/shared/{file_path:path}"): PUBLIC,
    ("HEAD", "/shared/{file_path:path}"): PUBLIC,
    ("GET", "/vendor/swagger-ui/{file_path:path}"): PUBLIC,
    ("HEAD", "/vendor/swagger-ui/{file_path:path}"): PUBLIC,
    ("GET", "/vendor/qrcode-generator/{file_path:path}"): PUBLIC,
    ("HEAD", "/vendor/qrcode-generator/{file_path:path}"): PUBLIC,
    # login and sessions
    ("GET", "/auth/login"): PUBLIC,
    ("GET", "/auth/callback"): Rule(ALL, signed=True, why="bound to the login state cookie, not a session"),
    ("POST", "/auth/refresh"): Rule(ALL, signed=True, why="authenticated by the refresh token"),
    ("POST", "/auth/logout"): Rule(SIGNED_IN),
    ("POST", "/auth/terminal/token"): SIGNED,
    ("GET", "/api/v1/me"): Rule(SIGNED_IN),
    # cases: the applicant's; agencies with an item in their regions and administrators may read
    ("POST", "/api/v1/cases"): Rule(OWNER, why="only who may act for the enterprise"),
    ("GET", "/api/v1/cases"): Rule(SIGNED_IN, why="each sees their own"),
    ("GET", "/api/v1/cases/{case_id:str}"): Rule(CASE_READERS, hidden=True),
    ("GET", "/api/v1/cases/{case_id:str}/status"): Rule(CASE_READERS, hidden=True),
    ("GET", "/api/v1/cases/{case_id:str}/events"): Rule(CASE_READERS, hidden=True),
    ("GET", "/api/v1/cases/{case_id:str}/materials/{material_id:int}"): Rule(CASE_READERS, hidden=True),
    ("GET", "/api/v1/cases/{case_id:str}/documents/{document_id:int}"): Rule(CASE_READERS, hidden=True),
    ("GET", "/api/v1/cases/{case_id:str}/signatures"): Rule(CASE_READERS, hidden=True),
    ("PATCH", "/api/v1/cases/{case_id:str}"): Rule(OWNER, hidden=True),
    ("GET", "/api/v1/cases/{case_id:str}/progress"): Rule(CASE_READERS, hidden=True),
    ("PATCH", "/api/v1/cases/{case_id:str}/progress"): Rule(OWNER, hidden=True),
    ("GET", "/api/v1/cases/{case_id:str}/register-facts"): Rule(CASE_READERS, hidden=True),
    ("POST", "/api/v1/short-links"): Rule(SIGNED_IN, why="any signed-in person; only this platform's links"),
    ("GET", "/s/{code:str}"): Rule(ALL, why="the code is the key: whoever holds it is sent on (expires in a week)"),
    ("POST", "/api/v1/cases/{case_id:str}/precheck"): Rule(OWNER, hidden=True),
    ("POST", "/api/v1/cases/{case_id:str}/materials"): Rule(OWNER, hidden=True),
    ("DELETE", "/api/v1/cases/{case_id:str}/materials/{material_id:int}"): Rule(OWNER, hidden=True),
    ("POST", "/api/v1/cases/{case_id:str}/signatures"): Rule(OWNER, hidden=True),
    ("POST", "/api/v1/cases/{case_id:str}/submit"): Rule(OWNER, hidden=True),
    ("POST", "/api/v1/cases/{case_id:str}/withdraw"): Rule(OWNER, hidden=True),
    ("POST", "/api/v1/cases/{case_id:str}/items/{code:str}/correction"): Rule(OWNER, hidden=True),
    ("POST", "/api/v1/cases/{case_id:str}/objections"): Rule(
        frozenset({"agency_staff"}), hidden=True, why="a department with an item in the case, in its region, objects"
    ),
    ("POST", "/api/v1/callbacks/{system:str}"): SIGNED,
    ("GET", "/api/v1/notifications"): Rule(SIGNED_IN, why="each sees their own"),
    ("POST", "/api/v1/notifications/{notification_id:int}/read"): Rule(SIGNED_IN, why="marks only one's own"),
    ("GET", "/api/v1/notifications/preferences"): Rule(SIGNED_IN, why="each sees their own settings"),
    ("PUT", "/api/v1/notifications/preferences"): Rule(SIGNED_IN, why="each sets their own texts on or off"),
    # identity
    ("GET", "/api/v1/enterprises/{uscc:str}"): Rule(OWNER),
    ("GET", "/api/v1/enterprises/{uscc:str}/licence"): Rule(
        OWNER | {"window_staff", "admin", "agency_staff"},
        hidden=True,
        why="agency staff: enterprises with a case of theirs in region",
    ),
    ("GET", "/api/v1/mandates"): Rule(PERSONS),
    ("POST", "/api/v1/mandates"): Rule(OWNER, why="the legal representative grants"),
    ("POST", "/api/v1/mandates/{mandate_id:str}/revoke"): Rule(PERSONS, why="unknown mandate: 404 to persons"),
    ("POST", "/api/v1/face-verifications"): Rule(PERSONS),
    ("GET", "/api/v1/face-verifications/{verification_id:str}"): Rule(OWNER, hidden=True),
    ("POST", "/api/v1/face-verifications/callback"): SIGNED,
    ("POST", "/api/v1/signatures/callback"): SIGNED,
    ("GET", "/api/v1/signatures"): Rule(CASE_READERS, hidden=True, why="its signers, and staff who may read its case"),
    ("GET", "/api/v1/signing-documents/{document_id:str}"): Rule(
        CASE_READERS, hidden=True, why="its signers, and staff who may read its case"
    ),
    ("POST", "/api/v1/seals/verify"): Rule(SIGNED_IN),
    ("GET", "/api/v1/audit/access"): Rule(ADMIN),
    ("POST", "/api/v1/kiosk/sessions"): Rule(frozenset({"kiosk_terminal"})),
    ("POST", "/api/v1/kiosk/sessions/end"): Rule(frozenset(), why="only a kiosk visitor session (none of these roles)"),
    ("GET", "/api/v1/kiosk/terminals"): Rule(ADMIN),
    ("POST", "/api/v1/kiosk/terminals"): Rule(ADMIN),
    ("POST", "/api/v1/kiosk/terminals/{terminal_id:str}/disable"): Rule(ADMIN),
    # agency workbench: staff of an agency; one item only within their agency and regions
    ("GET", "/api/v1/workbench/items"): Rule(AGENCY),
    ("GET", "/api/v1/workbench/items/{ref:str}"): Rule(frozenset({"agency_staff"})),
    ("GET", "/api/v1/workbench/items/{ref:str}/materials/{material_id:int}"): Rule(frozenset({"agency_staff"})),
    ("GET", "/api/v1/workbench/items/{ref:str}/documents/{document_id:int}"): Rule(frozenset({"agency_staff"})),
    ("POST", "/api/v1/workbench/items/{ref:str}/accept"): Rule(frozenset({"agency_staff"})),
    ("POST", "/api/v1/workbench/items/{ref:str}/correction"): Rule(frozenset({"agency_staff"})),
    ("POST", "/api/v1/workbench/items/{ref:str}/approve"): Rule(frozenset({"agency_staff"})),
    ("POST", "/api/v1/workbench/items/{ref:str}/refuse"): Rule(frozenset({"agency_staff"})),
    # window assistance: window staff, each only their own assisted applications
    ("POST", "/api/v1/assisted"): Rule(frozenset({"window_staff"})),
    ("GET", "/api/v1/assisted/{assisted_id:str}"): Rule(frozenset({"window_staff"})),
    ("POST", "/api/v1/assisted/{assisted_id:str}/confirm"): Rule(frozenset({"window_staff"})),
    ("POST", "/api/v1/assisted/{assisted_id:str}/handoff"): Rule(frozenset({"window_staff"})),
    # ratings
    ("POST", "/api/v1/ratings/matters"): Rule(OWNER, hidden=True),
    ("POST", "/api/v1/ratings/visits"): Rule(NOT_STAFF, why="the visitor rates, staff may not"),
    ("POST", "/api/v1/ratings/visit-tokens"): Rule(
        frozenset(), why="only a kiosk visitor session, whose visit the token proves (none of these roles)"
    ),
    ("GET", "/api/v1/ratings/mine"): Rule(SIGNED_IN, why="each sees their own"),
    ("GET", "/api/v1/ratings/follow-ups"): Rule(SIGNED_IN, why="filtered to the caller's agency or hall"),
    ("GET", "/api/v1/ratings/follow-ups/{fid:str}"): Rule(frozenset({"agency_staff", "admin"})),
    ("POST", "/api/v1/ratings/follow-ups/{fid:str}/visit"): Rule(frozenset({"agency_staff", "admin"})),
    ("POST", "/api/v1/ratings/follow-ups/{fid:str}/rectification"): Rule(frozenset({"agency_staff", "admin"})),
    ("POST", "/api/v1/ratings/follow-ups/{fid:str}/reply"): Rule(frozenset({"agency_staff", "admin"})),
    ("POST", "/api/v1/ratings/follow-ups/{fid:str}/re-rating"): Rule(OWNER, hidden=True),
    ("POST", "/api/v1/ratings/{rating_id:str}/appeals"): Rule(
        frozenset({"agency_staff"}), why="the handling agency appeals"
    ),
    ("GET", "/api/v1/ratings/appeals"): Rule(ADMIN),
    ("POST", "/api/v1/ratings/appeals/{appeal_id:str}/review"): Rule(ADMIN),
    ("GET", "/api/v1/ratings/report"): Rule(ADMIN),
    # 测试问题反馈 (the trial's problem reports): staff of the reporting agency, the platform team
    ("GET", "/api/v1/feedback/reports"): Rule(STAFF, why="filtered to the caller's agency or hall"),
    ("POST", "/api/v1/feedback/reports"): Rule(STAFF),
    ("GET", "/api/v1/feedback/stats"): Rule(STAFF, why="filtered to the caller's agency or hall"),
    ("GET", "/api/v1/feedback/reports/{report_id:str}"): Rule(FEEDBACK_READERS, hidden=True),
    ("GET", "/api/v1/feedback/reports/{report_id:str}/screenshot"): Rule(FEEDBACK_READERS, hidden=True),
    ("POST", "/api/v1/feedback/reports/{report_id:str}/triage"): Rule(ADMIN, hidden=True),
    ("POST", "/api/v1/feedback/reports/{report_id:str}/status"): Rule(ADMIN, hidden=True),
    ("POST", "/api/v1/feedback/reports/{report_id:str}/confirm"): Rule(
        frozenset({"agency_staff"}), hidden=True, why="the reporter only"
    ),
    ("POST", "/api/v1/feedback/reports/{report_id:str}/reopen"): Rule(
        frozenset({"agency_staff"}), hidden=True, why="the reporter only"
    ),
    # 征求意见 (consultation on guides): participating staff comment and reply, administrators open and resolve
    ("GET", "/api/v1/consultations"): Rule(STAFF),
    ("POST", "/api/v1/consultations"): Rule(ADMIN),
    ("GET", "/api/v1/consultations/{version:str}"): Rule(STAFF),
    ("POST", "/api/v1/consultations/{version:str}/comments"): Rule(STAFF),
    ("POST", "/api/v1/consultations/{version:str}/comments/{comment_id:str}/replies"): Rule(STAFF),
    ("POST", "/api/v1/consultations/{version:str}/comments/{comment_id:str}/resolution"): Rule(ADMIN),
    # statistics and administration
    ("GET", "/api/v1/stats"): Rule(ADMIN),
    ("GET", "/api/v1/stats/export"): Rule(ADMIN),
    ("GET", "/api/v1/admin/connector-modes"): Rule(ADMIN),
    ("PUT", "/api/v1/admin/connector-modes/{system:str}"): Rule(ADMIN),
    ("GET", "/api/v1/admin/dead-letters"): Rule(ADMIN),
    ("POST", "/api/v1/admin/dead-letters/items/{ref:str}/redrive"): Rule(ADMIN),
    ("POST", "/api/v1/admin/jobs/{job_id:int}/redrive"): Rule(ADMIN),
    ("GET", "/api/v1/admin/catalog/versions"): Rule(ADMIN),
    ("GET", "/api/v1/admin/catalog/diff"): Rule(ADMIN),
    ("GET", "/api/v1/admin/jurisdiction"): Rule(ADMIN),
    ("GET", "/api/v1/admin/catalog/publications"): Rule(ADMIN),
    ("POST", "/api/v1/admin/catalog/publications"): Rule(ADMIN),
    ("POST", "/api/v1/admin/catalog/rollback"): Rule(ADMIN),
    ("GET", "/api/v1/admin/calendar"): Rule(ADMIN),
    ("POST", "/api/v1/admin/calendar/preview"): Rule(ADMIN),
    ("POST", "/api/v1/admin/calendar/imports"): Rule(ADMIN),
    ("GET", "/api/v1/admin/staff"): Rule(ADMIN),
    ("POST", "/api/v1/admin/staff"): Rule(ADMIN),
    ("GET", "/api/v1/admin/staff/{subject:str}"): Rule(ADMIN),
    ("PATCH", "/api/v1/admin/staff/{subject:str}"): Rule(ADMIN),
    ("POST", "/api/v1/admin/staff/{subject:str}/deactivate"): Rule(ADMIN),
    ("GET", "/api/v1/admin/integrations"): Rule(ADMIN),
    ("GET", "/api/v1/admin/integrations/export"): Rule(ADMIN),
    ("PATCH", "/api/v1/admin/integrations/{system:str}"): Rule(ADMIN),
    ("GET", "/api/v1/admin/contacts"): Rule(ADMIN),
    ("POST", "/api/v1/admin/contacts"): Rule(ADMIN),
    ("GET", "/api/v1/admin/contacts/export"): Rule(ADMIN),
    ("PATCH", "/api/v1/admin/contacts/{contact_id:int}"): Rule(ADMIN),
    ("DELETE", "/api/v1/admin/contacts/{contact_id:int}"): Rule(ADMIN),
}

# The test environment (only with TEST_ENV on): open to whoever can reach it.
SANDBOX_ROUTES = [
    ("GET", "/sandbox/personas"),
    ("GET", "/sandbox/enterprises"),
    ("GET", "/sandbox/enterprises/{uscc:str}"),
    ("GET", "/sandbox/simulators"),
    ("GET", "/sandbox/simulators/{system:str}/stats"),
    ("GET", "/sandbox/simulators/{system:str}/faults"),
    ("PUT", "/sandbox/simulators/{system:str}/faults"),
    ("PATCH", "/sandbox/simulators/{system:str}/faults"),
    ("GET", "/sandbox/simulators/{system:str}/messages"),
    ("POST", "/sandbox/simulators/{system:str}/reset"),
    ("POST", "/sandbox/cases/{case_id:str}/notice/end"),
    ("POST", "/sandbox/token"),
    ("GET", "/sandbox/oidc/.well-known/openid-configuration"),
    ("GET", "/sandbox/oidc/jwks"),
    ("GET", "/sandbox/oidc/authorize"),
    ("POST", "/sandbox/oidc/authorize"),
    ("POST", "/sandbox/oidc/token"),
    ("GET", "/sandbox/oidc/userinfo"),
    ("GET", "/sandbox/identity/personas"),
    ("GET", "/sandbox/face/jwks"),
    ("GET", "/sandbox/face/session"),
    ("POST", "/sandbox/face/session"),
    ("POST", "/sandbox/face/frames"),
    ("GET", "/sandbox/sign/jwks"),
    ("GET", "/sandbox/sign/session"),
    ("POST", "/sandbox/sign/session"),
    ("GET", "/sandbox/seal/jwks"),
    ("POST", "/sandbox/seal"),
    ("GET", "/sandbox/licence/jwks"),
    ("GET", "/sandbox/licence/{uscc:str}"),
    ("GET", "/sandbox/device/status"),
    ("GET", "/sandbox/device/card"),
    ("POST", "/sandbox/device/card"),
    ("DELETE", "/sandbox/device/card"),
    ("POST", "/sandbox/device/camera/frames"),
    ("POST", "/sandbox/device/camera"),
    ("GET", "/sandbox/device/scanner"),
    ("POST", "/sandbox/device/scanner"),
    ("GET", "/sandbox/device/printer/jobs"),
    ("POST", "/sandbox/device/printer/jobs"),
    ("DELETE", "/sandbox/device/printer/jobs"),
    ("POST", "/sandbox/device/printer"),
    ("POST", "/sandbox/device/session/clear"),
    ("POST", "/sandbox/device/terminal/token"),
]
POLICY.update({key: TEST_ENV for key in SANDBOX_ROUTES})
# The simulated agency systems are ASGI mounts; they check signed requests themselves (tests/connectors).
SIMULATOR_MOUNTS = {
    "/sim/etax",
    "/sim/xm-tax",
    "/sim/amr",
    "/sim/customs-fz",
    "/sim/customs-xm",
    "/sim/si-pension",
    "/sim/si-unemployment",
    "/sim/ytz-bank",
    "/sim/seal-security",
    "/sim/seal-online",
    "/sim/haochaping",  # the push systems (好差评, SMS): signed requests too (tests/connectors/test_push_systems.py)
    "/sim/sms",
}


def app_routes(app) -> tuple[set[tuple[str, str]], set[str], list[tuple[str, str]]]:
    """(method, path) of every HTTP handler, the ASGI mounts, and the OPTIONS handlers that are not Litestar's own."""
    handlers: set[tuple[str, str]] = set()
    mounts: set[str] = set()
    custom_options: list[tuple[str, str]] = []
    for route in app.routes:
        if isinstance(route, HTTPRoute):
            for handler in route.route_handlers:
                for method in handler.http_methods:
                    if method == "OPTIONS":
                        if handler.handler_name != "options_handler":
                            custom_options.append((method, route.path))
                        continue
                    handlers.add((method, route.path))
        elif isinstance(route, ASGIRoute):
            mounts.add(route.path)
        else:
            raise AssertionError(f"unclassified route kind {type(route).__name__} at {route.path}")
    return handlers, mounts, custom_options


def test_every_route_is_classified(live):
    handlers, mounts, custom_options = app_routes(live.app)
    unclassified = sorted(handlers - set(POLICY))
    assert not unclassified, f"routes missing from the authorization policy (add them to POLICY): {unclassified}"
    stale = sorted(set(POLICY) - handlers)
    assert not stale, f"POLICY names routes the app no longer has: {stale}"
    assert mounts == SIMULATOR_MOUNTS, mounts ^ SIMULATOR_MOUNTS
    assert not custom_options, f"OPTIONS handlers of our own must be classified: {custom_options}"


async def test_test_environment_is_absent_in_production(pg_url, redis_url, tmp_path):
    """The production app (PostgreSQL and Redis): the sandbox and the simulators are not even routed.

    Asked without starting its lifespan: routing needs no database, and the shared platform's
    tables stay bound to its own.
    """
    from backend.app import create_app
    from backend.settings import load_settings

    settings = load_settings(env={}, database_url=pg_url, redis_url=redis_url, data_dir=str(tmp_path))
    assert settings.mode == "production" and not settings.test_env_enabled
    app = create_app(settings)
    try:
        handlers, mounts, _ = app_routes(app)
        leaked = sorted(p for _, p in handlers if p.startswith(("/sandbox", "/sim"))) + sorted(mounts)
        assert not leaked, leaked
        expected_in_production = {key for key, rule in POLICY.items() if rule is not TEST_ENV}
        assert handlers == expected_in_production, handlers ^ expected_in_production
        async with httpx.AsyncClient(
            transport=httpx.ASGITransport(app=app), base_url="http://production.test"
        ) as client:
            assert (await client.post("/sandbox/token", json={"persona": "admin-platform"})).status_code in (404, 405)
            assert (await client.get("/sandbox/personas")).status_code == 404
            assert (await client.get("/sim/etax/.well-known/jwks.json")).status_code == 404
    finally:
        await app.state.platform.redis.aclose()


# ---- the matrix ------------------------------------------------------------------------------------


@dataclass
class Probe:
    path: str
    json: object = None
    data: dict | None = None
    files: dict | None = None
    params: dict | None = None
    headers: dict | None = None


PNG_1X1 = bytes.fromhex(  # a real 1×1 PNG (a problem report's screenshot)
    "89504e470d0a1a0a0000000d49484452000000010000000108020000009077"
    "53de0000000c49444154789c63f8cfc0000003010100c9fe92ef0000000049454e44ae426082"
)
TINY_PDF = b"%PDF-1.4\n1 0 obj<</Type/Catalog>>endobj\ntrailer<</Root 1 0 R>>\n%%EOF\n"


@pytest.fixture(scope="module")
async def resources(live, world) -> dict[str, str]:
    """Real resources of every kind a route is scoped to, so that a 404 can only mean 'hidden'."""
    c, t = live.client, live.tokens
    scale = (await c.get("/api/v1/ratings/scale")).json()
    indicator = scale["indicators"][0]["code"]
    rated = await c.post(
        "/api/v1/ratings/matters",
        headers=bearer(t["owner"]),
        json={
            "case_id": world.case_id,
            "item_ref": world.item_ref,
            "level": 1,
            "indicators": [indicator],
            "comment": "太慢",
        },
    )
    assert rated.status_code == 201, rated.text
    rating = rated.json()
    mine = (await c.get("/api/v1/ratings/mine", headers=bearer(t["owner"]))).json()
    follow_up = next(r["follow_up_id"] for r in mine if r["id"] == rating["id"])
    appealed = await c.post(
        f"/api/v1/ratings/{rating['id']}/appeals",
        headers=bearer(t["agency_staff"]),
        json={"ground": "mistaken", "reason": "误评"},
    )
    assert appealed.status_code == 201, appealed.text
    me = (await c.get("/api/v1/me", headers=bearer(t["owner"]))).json()
    signing = (await c.get(f"/api/v1/cases/{world.case_id}/signatures", headers=bearer(t["owner"]))).json()
    face = await c.post(
        "/api/v1/face-verifications", headers=bearer(t["owner"]), json={"purpose": "submit", "reference": world.case_id}
    )
    assert face.status_code == 201, face.text
    assisted = await c.post(
        "/api/v1/assisted",
        headers=bearer(t["window_staff"]),
        json={"uscc": OTHER_USCC, "visitor_id": "P002", "visitor_name": "林晓燕"},
    )
    assert assisted.status_code == 201, assisted.text
    reported = await c.post(
        "/api/v1/feedback/reports",
        headers=bearer(t["agency_staff"]),
        files={
            "page": (None, "/staff/workbench.html"),
            "step": (None, "办结"),
            "expected": (None, "办结成功"),
            "actual": (None, "报错"),
            "screenshot": ("s.png", PNG_1X1, "image/png"),
        },
    )
    assert reported.status_code == 201, reported.text
    version = (await c.get("/api/v1/catalog")).json()["version"]
    opened = await c.post("/api/v1/consultations", headers=bearer(t["admin"]), json={"version": version})
    assert opened.status_code == 201, opened.text
    commented = await c.post(
        f"/api/v1/consultations/{version}/comments",
        headers=bearer(t["agency_staff"]),
        json={"item_code": "REG-COMPANY", "section": "materials", "body": "材料清单有误"},
    )
    assert commented.status_code == 201, commented.text
    return {
        "case_id": world.case_id,
        "ref": world.item_ref,
        "material_id": str(world.material_id),
        "document_id": str(world.document_id),
        "fid": follow_up,
        "rating_id": rating["id"],
        "appeal_id": appealed.json()["id"],
        "indicator": indicator,
        "signing_document": signing["documents"][0]["document_id"],
        "signing_reference": signing["reference"],
        "verification_id": face.json()["verification_id"],
        "assisted_id": assisted.json()["id"],
        "owner_id_number": me["id_number"],
        "report_id": reported.json()["id"],
        "version": version,
        "comment_id": commented.json()["id"],
    }


def probe_for(method: str, path: str, r: dict[str, str]) -> Probe:
    """A concrete request for a route pattern: real ids, and a body that changes nothing important."""
    values = {
        "case_id": r["case_id"],
        "ref": r["ref"],
        "material_id": r["material_id"],
        "code": "REG-COMPANY",
        "uscc": CASE_USCC,
        "system": "amr",
        "fid": r["fid"],
        "report_id": r["report_id"],
        "version": r["version"],
        "comment_id": r["comment_id"],
        "rating_id": r["rating_id"],
        "appeal_id": r["appeal_id"],
        "assisted_id": r["assisted_id"],
        "verification_id": r["verification_id"],
        "mandate_id": "no-such-mandate",
        "terminal_id": "no-such-terminal",
        "subject": "no-such-staff",
        "contact_id": "999999",
        "job_id": "999999",
        "notification_id": "999999",
        "entity_type": "company",
        "file_path": "index.html",
        "path": "nothing",
    }
    concrete = path
    for name, value in values.items():
        for kind in ("str", "int", "path"):
            concrete = concrete.replace(f"{{{name}:{kind}}}", value)
    if method == "GET" and path == "/api/v1/cases/{case_id:str}/documents/{document_id:int}":
        concrete = concrete.replace("{document_id:int}", r["document_id"])
    concrete = concrete.replace("{document_id:int}", r["document_id"]).replace(
        "{document_id:str}", r["signing_document"]
    )
    assert "{" not in concrete, f"no value for a parameter of {path}"
    bodies: dict[tuple[str, str], Probe] = {
        ("POST", "/api/v1/cases"): Probe(concrete, json={"uscc": CASE_USCC}),
        ("PATCH", "/api/v1/cases/{case_id:str}"): Probe(
            concrete, json={"answers": {}}
        ),  # a submitted case: 409 to who may
        ("POST", "/api/v1/cases/{case_id:str}/materials"): Probe(
            concrete, data={"code": "M-LICENCE"}, files={"file": ("a.pdf", TINY_PDF, "application/pdf")}
        ),
        ("POST", "/api/v1/cases/{case_id:str}/withdraw"): Probe(concrete, json={"reason": "试试"}),
        ("PATCH", "/api/v1/cases/{case_id:str}/progress"): Probe(concrete, json={"enterprise_checked": True}),
        ("POST", "/api/v1/short-links"): Probe(concrete, json={"url": "https://example.org/elsewhere"}),
        ("POST", "/api/v1/cases/{case_id:str}/submit"): Probe(
            concrete, headers={"Idempotency-Key": "security-matrix-submit"}
        ),
        ("POST", "/api/v1/cases/{case_id:str}/items/{code:str}/correction"): Probe(
            concrete, json={"form_data": {}, "message": "补正"}
        ),
        ("POST", "/api/v1/cases/{case_id:str}/objections"): Probe(concrete, json={"message": "有异议"}),
        ("POST", "/api/v1/callbacks/{system:str}"): Probe(concrete, json={"event_id": "x"}),
        ("POST", "/api/v1/plans"): Probe(concrete, json={"entity_type": "company", "answers": {}}),
        ("POST", "/auth/refresh"): Probe(concrete, json={"refresh_token": "not-a-token"}),
        ("POST", "/auth/terminal/token"): Probe(concrete, json={"assertion": "not.a.jwt"}),
        # the owner naming themselves: refused as invalid after the permission check, so nothing is granted
        ("POST", "/api/v1/mandates"): Probe(
            concrete, json={"uscc": CASE_USCC, "agent_id_number": r["owner_id_number"], "items": []}
        ),
        ("POST", "/api/v1/face-verifications"): Probe(concrete, json={"purpose": "submit", "reference": r["case_id"]}),
        ("POST", "/api/v1/face-verifications/callback"): Probe(concrete, json={"jws": "not.a.jws"}),
        ("POST", "/api/v1/signatures/callback"): Probe(concrete, json={"jws": "not.a.jws"}),
        ("GET", "/api/v1/signatures"): Probe(concrete, params={"reference": r["signing_reference"]}),
        ("POST", "/api/v1/seals/verify"): Probe(
            concrete, json={"document_base64": base64.b64encode(b"doc").decode(), "seal": "not.a.seal"}
        ),
        ("POST", "/api/v1/kiosk/sessions"): Probe(
            concrete,
            json={"id_number": "350102196602040372", "name": "林晓燕", "frames": [base64.b64encode(b"frame").decode()]},
        ),
        ("POST", "/api/v1/kiosk/terminals"): Probe(
            concrete, json={"terminal_id": "x", "name": "x", "hall": "x", "region": "x", "public_jwk": {}}
        ),
        ("POST", "/api/v1/workbench/items/{ref:str}/accept"): Probe(concrete, json={"message": ""}),
        ("POST", "/api/v1/workbench/items/{ref:str}/correction"): Probe(
            concrete, json={"items": [{"kind": "field", "name": "liquidation_completed_date"}], "message": "补正"}
        ),
        ("POST", "/api/v1/workbench/items/{ref:str}/approve"): Probe(
            concrete, data={"message": ""}, files={"file": ("r.pdf", TINY_PDF, "application/pdf")}
        ),
        ("POST", "/api/v1/workbench/items/{ref:str}/refuse"): Probe(concrete, json={"reason": "不予办理"}),
        ("POST", "/api/v1/assisted"): Probe(
            concrete, json={"uscc": OTHER_USCC, "visitor_id": "P002", "visitor_name": "林晓燕"}
        ),
        ("POST", "/api/v1/ratings/matters"): Probe(
            concrete, json={"case_id": r["case_id"], "item_ref": r["ref"], "level": 5, "indicators": [r["indicator"]]}
        ),
        ("POST", "/api/v1/ratings/visits"): Probe(
            concrete,
            json={"visit_token": "security-visit", "level": 5, "indicators": [r["indicator"]]},
        ),
        ("POST", "/api/v1/ratings/follow-ups/{fid:str}/visit"): Probe(concrete, json={"note": "已回访"}),
        ("POST", "/api/v1/ratings/follow-ups/{fid:str}/rectification"): Probe(concrete, json={"note": "已整改"}),
        ("POST", "/api/v1/ratings/follow-ups/{fid:str}/reply"): Probe(concrete, json={"note": "已答复"}),
        ("POST", "/api/v1/ratings/follow-ups/{fid:str}/re-rating"): Probe(
            concrete, json={"level": 5, "indicators": [r["indicator"]]}
        ),
        ("POST", "/api/v1/ratings/{rating_id:str}/appeals"): Probe(
            concrete, json={"ground": "mistaken", "reason": "误评"}
        ),
        ("POST", "/api/v1/ratings/appeals/{appeal_id:str}/review"): Probe(
            concrete, json={"uphold": False, "decision": "维持"}
        ),
        ("POST", "/api/v1/feedback/reports"): Probe(
            concrete,
            files={"page": (None, "/x"), "step": (None, "s"), "expected": (None, "e"), "actual": (None, "a")},
        ),
        ("POST", "/api/v1/feedback/reports/{report_id:str}/triage"): Probe(
            concrete, json={"severity": "minor", "assignee": "王工"}
        ),
        # a move the state machine lacks: 409 to the platform team, nothing changes
        ("POST", "/api/v1/feedback/reports/{report_id:str}/status"): Probe(concrete, json={"status": "confirmed"}),
        ("POST", "/api/v1/feedback/reports/{report_id:str}/confirm"): Probe(concrete, json={}),
        ("POST", "/api/v1/feedback/reports/{report_id:str}/reopen"): Probe(concrete, json={"note": "仍有问题"}),
        # a second opening of the same version: 409 to an administrator, nothing changes
        ("POST", "/api/v1/consultations"): Probe(concrete, json={"version": r["version"]}),
        ("POST", "/api/v1/consultations/{version:str}/comments"): Probe(
            concrete, json={"item_code": "REG-COMPANY", "section": "fees", "body": "收费说明"}
        ),
        ("POST", "/api/v1/consultations/{version:str}/comments/{comment_id:str}/replies"): Probe(
            concrete, json={"body": "已收到"}
        ),
        ("POST", "/api/v1/consultations/{version:str}/comments/{comment_id:str}/resolution"): Probe(
            concrete, json={"resolution": "adopted", "note": "已采纳"}
        ),
        ("GET", "/api/v1/stats/export"): Probe(concrete, params={"section": "items"}),
        ("PUT", "/api/v1/admin/connector-modes/{system:str}"): Probe(concrete, json={"mode": "api"}),
        ("GET", "/api/v1/admin/catalog/diff"): Probe(concrete, params={"base": "2026.1", "other": "2026.1"}),
        ("POST", "/api/v1/admin/catalog/publications"): Probe(concrete, json={"version": "no-such-version"}),
        ("POST", "/api/v1/admin/catalog/rollback"): Probe(concrete, json={"note": ""}),
        # a year out of range: an administrator gets 422 and nothing is imported
        ("POST", "/api/v1/admin/calendar/preview"): Probe(
            concrete, json={"year": 1999, "holidays": [], "source": "probe"}
        ),
        ("POST", "/api/v1/admin/calendar/imports"): Probe(
            concrete, json={"year": 1999, "holidays": [], "source": "probe"}
        ),
        ("POST", "/api/v1/admin/staff"): Probe(concrete, json={"subject": ""}),
        ("PATCH", "/api/v1/admin/staff/{subject:str}"): Probe(concrete, json={"name": "x"}),
        ("GET", "/api/v1/admin/integrations/export"): Probe(concrete, params={"format": "csv"}),
        ("GET", "/api/v1/admin/contacts/export"): Probe(concrete, params={"format": "csv"}),
        ("PATCH", "/api/v1/admin/integrations/{system:str}"): Probe(concrete, json={}),
        ("POST", "/api/v1/admin/contacts"): Probe(concrete, json={}),
        ("PATCH", "/api/v1/admin/contacts/{contact_id:int}"): Probe(concrete, json={}),
    }
    return bodies.get((method, path), Probe(concrete))


async def ask(live, method: str, probe: Probe, token: str | None):
    headers = bearer(token)
    if method == "GET" and probe.path.endswith("/events"):
        async with live.client.stream(method, probe.path, headers=headers, timeout=10) as response:
            return response.status_code, (await response.aread()).decode() if response.status_code >= 400 else ""
    response = await live.client.request(
        method,
        probe.path,
        headers={**headers, **(probe.headers or {})},
        json=probe.json,
        data=probe.data,
        files=probe.files,
        params=probe.params,
    )
    return response.status_code, response.text


# 403s that are not about who the caller is but about what must happen first
PRECONDITIONS = {"face_verification_required"}


def _code(body: str) -> str:
    try:
        return str(json.loads(body).get("code", ""))
    except ValueError:
        return ""


def verdict(rule: Rule, role: str, status: int, body: str) -> str | None:
    """Why this answer breaks the rule, or None."""
    if role in rule.allowed:
        if status == 403 and _code(body) in PRECONDITIONS:
            return None
        if status in (401, 403):
            return f"allowed but refused with {status}"
        if status == 404 and rule.hidden:
            return "allowed but told the resource does not exist"
        if status >= 500:
            return f"server error {status}"
        return None
    if role == "anonymous":
        return None if status == 401 else f"anonymous got {status}, not 401"
    if status == 403 or (status == 404 and rule.hidden):
        return None
    return f"refused role got {status} (expected 403{' or 404' if rule.hidden else ''})"


MATRIX = sorted(key for key in POLICY if not key[1].startswith("/sandbox") and POLICY[key] is not PUBLIC)


@pytest.mark.parametrize("method,path", MATRIX, ids=[f"{m} {p}" for m, p in MATRIX])
async def test_route_by_role(live, resources, method, path):
    rule = POLICY[(method, path)]
    probe = probe_for(method, path, resources)
    answers = {}
    for role in ROLES:  # one after another: some calls change state the next role sees
        token = live.tokens[role]
        if (method, path) == ("POST", "/auth/logout") and PERSONAS[role]:
            token = await session_token(live.client, PERSONAS[role])  # logging out ends a session: not the shared ones
        answers[role] = await ask(live, method, probe, token)
    if rule.signed:
        statuses = {role: status for role, (status, _) in answers.items()}
        assert len(set(statuses.values())) == 1 and 400 <= next(iter(statuses.values())) < 500, (
            f"a session changed a signed route's answer: {statuses}"
        )
        return
    failures = [
        f"{role}: {why} [{body[:160]}]"
        for role, (status, body) in answers.items()
        if (why := verdict(rule, role, status, body))
    ]
    assert not failures, "\n".join(failures)


PUBLIC_PROBES = sorted(
    key
    for key, rule in POLICY.items()
    if rule is PUBLIC and "{" not in key[1] or key in {("GET", "/api/v1/guides/{entity_type:str}")}
)


async def test_public_routes_answer_everyone_alike(live, resources):
    """Public routes need no credentials, and a session changes nothing about the answer."""
    for method, path in PUBLIC_PROBES:
        probe = probe_for(method, path, resources)
        statuses = {
            role: (await ask(live, method, probe, live.tokens[role]))[0] for role in ("anonymous", "owner", "admin")
        }
        assert len(set(statuses.values())) == 1, (method, path, statuses)
        assert statuses["anonymous"] < 500 and statuses["anonymous"] not in (401, 403), (method, path, statuses)


async def test_test_environment_routes_need_no_session(live):
    """In the test environment its own routes are open (they are absent in production, above)."""
    statuses = await asyncio.gather(
        *(
            live.client.get(p)
            for p in ("/sandbox/personas", "/sandbox/enterprises", "/sandbox/simulators", "/sandbox/oidc/jwks")
        )
    )
    assert [s.status_code for s in statuses] == [200] * 4
