"""The test environment's device bridge: the same interface as a terminal's local bridge
service (see README.md), answered from in-memory state that QA sets through extra routes.

State lives on the app (``app.state["devicebridge"]``): one simulated terminal per platform
process, like the other simulators of the test environment.
"""

from __future__ import annotations

import base64
import secrets
import time
from dataclasses import dataclass, field
from typing import Annotated, Any, Literal

import msgspec
from litestar import Litestar, Request, Router, delete, get, post
from litestar.params import FromQuery, JSONBody

from backend.fixtures import load_fixtures
from backend.identity.config import get_identity
from backend.identity.personas import find_persona, persona_claims, principal_from_claims
from backend.identity.principal import TokenPair
from backend.identity.sandbox import MISMATCH_MARKER, test_env_only
from backend.identity.sessions import issue_session
from backend.lib.problems import ProblemError
from backend.lib.validators import validate_id_number

MAX_PRINT_JOBS = 200
DEFAULT_TERMINAL = "kiosk-fz-01"


# ---- wire shapes ---------------------------------------------------------------------------------


class IdCard(msgspec.Struct, kw_only=True, omit_defaults=True):
    """What the reader returns for a second-generation resident ID card (居民身份证)."""

    id_number: str
    name: str
    sex: str = ""
    nation: str = ""
    address: str = ""
    issuer: str = ""
    valid_until: str = ""


class CardPlacement(msgspec.Struct, kw_only=True, forbid_unknown_fields=True):
    """QA: put a fixture person's card on the reader (``person_id``), or any card by its fields."""

    person_id: str | None = None
    id_number: str | None = None
    name: str | None = None


class CameraSetting(msgspec.Struct, forbid_unknown_fields=True):
    """QA: does the person in front of the camera match the card on the reader?"""

    face: Literal["match", "mismatch", "absent"] = "match"


class FramesRequest(msgspec.Struct, forbid_unknown_fields=True):
    count: Annotated[int, msgspec.Meta(ge=1, le=10)] = 3


class Frames(msgspec.Struct):
    """Base64 JPEG frames, ready for ``POST /api/v1/kiosk/sessions``."""

    frames: list[str]


class Scan(msgspec.Struct, forbid_unknown_fields=True):
    text: Annotated[str, msgspec.Meta(min_length=1, max_length=2000)]


class ScanResult(msgspec.Struct):
    """The last code the scanner read (each read is handed out once), or ``null``."""

    text: str | None


class ReceiptLine(msgspec.Struct, forbid_unknown_fields=True, omit_defaults=True):
    label: Annotated[str, msgspec.Meta(max_length=100)] = ""
    value: Annotated[str, msgspec.Meta(max_length=500)] = ""


class PrintJob(msgspec.Struct, kw_only=True, forbid_unknown_fields=True, omit_defaults=True):
    """A receipt (回执): title, label/value lines, an optional QR code and a footer."""

    title: Annotated[str, msgspec.Meta(min_length=1, max_length=100)]
    lines: Annotated[list[ReceiptLine], msgspec.Meta(max_length=60)] = []
    qr: Annotated[str, msgspec.Meta(max_length=1000)] = ""
    qr_caption: Annotated[str, msgspec.Meta(max_length=200)] = ""
    footer: Annotated[str, msgspec.Meta(max_length=500)] = ""


class PrintedJob(msgspec.Struct, kw_only=True, omit_defaults=True):
    job_id: str
    status: str
    printed_at: int
    job: PrintJob | None = None


class PrinterSetting(msgspec.Struct, forbid_unknown_fields=True):
    paper: Literal["ok", "out"] = "ok"


#: Where a device sits on the terminal's front, as the visitor faces it (the kiosk says so in words
#: and draws it): the terminal model's own layout, which its bridge reports.
Position = Literal["above_screen", "below_screen_left", "below_screen_center", "below_screen_right", "right_of_screen"]


class Positions(msgspec.Struct, kw_only=True, frozen=True):
    card_reader: Position
    camera: Position
    scanner: Position
    printer: Position


#: The simulated terminal: a floor-standing portrait kiosk with the camera over the screen and the
#: card reader, scanner and printer slot on the desk below it (reachable from a wheelchair).
SIMULATED_LAYOUT = Positions(
    card_reader="below_screen_right", camera="above_screen", scanner="below_screen_left", printer="below_screen_center"
)


class Status(msgspec.Struct, kw_only=True):
    """Which devices are ready (the kiosk hides what is missing), and where each one is."""

    card_reader: str
    card_present: bool
    camera: str
    scanner: str
    printer: str
    positions: Positions = SIMULATED_LAYOUT


# ---- state ---------------------------------------------------------------------------------------


@dataclass
class BridgeState:
    """One simulated terminal's devices."""

    card: IdCard | None = None
    face: str = "match"
    scan: str | None = None
    paper: str = "ok"
    jobs: list[PrintedJob] = field(default_factory=list)

    def forget_visitor(self) -> None:
        """The visitor left: the card is taken, the scanner forgets (printed paper stays printed)."""
        self.card = None
        self.scan = None
        self.face = "match"


def bridge_state(app: Litestar) -> BridgeState:
    state = app.state.get("devicebridge")
    if state is None:
        state = BridgeState()
        app.state["devicebridge"] = state
    return state


def _state(request: Request) -> BridgeState:
    return bridge_state(request.app)


# ---- the bridge interface (what a real terminal's bridge answers) --------------------------------


@get("/sandbox/device/status", summary="Device bridge: which devices are ready", sync_to_thread=False)
def status(request: Request) -> Status:
    s = _state(request)
    return Status(
        card_reader="ready",
        card_present=s.card is not None,
        camera="ready",
        scanner="ready",
        printer="ready" if s.paper == "ok" else "paper_out",
    )


@get("/sandbox/device/card", summary="Device bridge: read the ID card on the reader", sync_to_thread=False)
def read_card(request: Request) -> IdCard:
    card = _state(request).card
    if card is None:
        raise ProblemError(404, "no_card", "请将身份证放在读卡区。 Place the ID card on the reader.")
    return card


@post(
    "/sandbox/device/camera/frames",
    status_code=200,
    summary="Device bridge: capture camera frames",
    sync_to_thread=False,
)
def capture_frames(request: Request, data: JSONBody[FramesRequest | None] = None) -> Frames:
    s = _state(request)
    if s.face == "absent":
        raise ProblemError(409, "no_face", "未检测到人脸，请正对摄像头。 No face in front of the camera.")
    count = data.count if data else 3
    marker = MISMATCH_MARKER if s.face == "mismatch" else b"face"
    # A tiny JPEG-shaped payload: SOI, a comment segment carrying the simulated subject, EOI.
    frames = [
        base64.b64encode(b"\xff\xd8\xff\xfe\x00\x10" + marker + secrets.token_bytes(8) + b"\xff\xd9").decode()
        for _ in range(count)
    ]
    return Frames(frames=frames)


@get("/sandbox/device/scanner", summary="Device bridge: the last code the QR scanner read (once)", sync_to_thread=False)
def read_scan(request: Request) -> ScanResult:
    s = _state(request)
    text, s.scan = s.scan, None
    return ScanResult(text=text)


@post("/sandbox/device/printer/jobs", status_code=201, summary="Device bridge: print a receipt", sync_to_thread=False)
def print_receipt(request: Request, data: JSONBody[PrintJob]) -> PrintedJob:
    s = _state(request)
    if s.paper != "ok":
        raise ProblemError(503, "printer_paper_out", "打印机缺纸，请联系工作人员。 The printer is out of paper.")
    job = PrintedJob(job_id=secrets.token_hex(8), status="printed", printed_at=int(time.time() * 1000), job=data)
    s.jobs.append(job)
    del s.jobs[:-MAX_PRINT_JOBS]
    return PrintedJob(job_id=job.job_id, status=job.status, printed_at=job.printed_at)


@post(
    "/sandbox/device/session/clear",
    status_code=204,
    summary="Device bridge: forget the visitor (card, scan)",
    sync_to_thread=False,
)
def clear_visitor(request: Request) -> None:
    _state(request).forget_visitor()


@post("/sandbox/device/terminal/token", status_code=200, summary="Device bridge: the terminal's credential (simulated)")
async def terminal_token(request: Request, terminal: FromQuery[str] = DEFAULT_TERMINAL) -> TokenPair:
    """A real bridge signs a terminal assertion with the terminal's own key (``/terminal/assertion``)
    and the page exchanges it at ``/auth/terminal/token``; the simulator stands in with a sandbox
    kiosk persona (``kiosk-*``), through the same session machinery."""

    persona = find_persona(terminal)
    if persona is None or persona.kind != "kiosk":
        raise ProblemError(404, "terminal_not_found", "没有该测试终端。 Unknown test terminal.", field="terminal")
    principal = principal_from_claims(persona_claims(persona), "sandbox_token")
    return await issue_session(get_identity(request.app.state["platform"]), principal, "terminal", with_refresh=False)


# ---- QA controls (test environment only, not part of a real bridge) -------------------------------


@post("/sandbox/device/card", status_code=200, summary="QA: put an ID card on the reader", sync_to_thread=False)
def place_card(request: Request, data: JSONBody[CardPlacement]) -> IdCard:

    if data.person_id:
        person = load_fixtures().person(data.person_id)
        if person is None:
            raise ProblemError(
                404, "person_not_found", f"没有测试自然人 {data.person_id}。 Unknown fixture person.", field="person_id"
            )
        card = IdCard(id_number=person.id_number, name=person.name, issuer="测试公安局", valid_until="2036-12-31")
    elif data.id_number and data.name:
        card = IdCard(
            id_number=validate_id_number(data.id_number),
            name=data.name[:50],
            issuer="测试公安局",
            valid_until="2036-12-31",
        )
    else:
        raise ProblemError(
            422,
            "validation_failed",
            "需要 person_id，或 id_number 和 name。 Give person_id, or id_number and name.",
            field="person_id",
        )
    _state(request).card = card
    return card


@delete("/sandbox/device/card", status_code=204, summary="QA: take the card off the reader", sync_to_thread=False)
def remove_card(request: Request) -> None:
    _state(request).card = None


@post("/sandbox/device/camera", status_code=200, summary="QA: who stands in front of the camera", sync_to_thread=False)
def set_camera(request: Request, data: JSONBody[CameraSetting]) -> CameraSetting:
    _state(request).face = data.face
    return data


@post(
    "/sandbox/device/scanner", status_code=200, summary="QA: hold a code in front of the scanner", sync_to_thread=False
)
def place_scan(request: Request, data: JSONBody[Scan]) -> Scan:
    _state(request).scan = data.text
    return data


@get("/sandbox/device/printer/jobs", summary="QA: what the printer printed (newest last)", sync_to_thread=False)
def printed_jobs(request: Request) -> list[PrintedJob]:
    return list(_state(request).jobs)


@delete("/sandbox/device/printer/jobs", status_code=204, summary="QA: empty the printer tray", sync_to_thread=False)
def clear_jobs(request: Request) -> None:
    _state(request).jobs.clear()


@post("/sandbox/device/printer", status_code=200, summary="QA: printer paper state", sync_to_thread=False)
def set_printer(request: Request, data: JSONBody[PrinterSetting]) -> PrinterSetting:
    _state(request).paper = data.paper
    return data


def _no_store(response: Any) -> Any:
    response.headers["Cache-Control"] = "no-store"
    return response


SANDBOX_ROUTES: list[Any] = [
    Router(
        path="/",
        route_handlers=[
            status,
            read_card,
            capture_frames,
            read_scan,
            print_receipt,
            clear_visitor,
            terminal_token,
            place_card,
            remove_card,
            set_camera,
            place_scan,
            printed_jobs,
            clear_jobs,
            set_printer,
        ],
        guards=[test_env_only],
        after_request=_no_store,
        tags=["sandbox device bridge"],
        include_in_schema=False,
    )
]
