"""The device bridge simulator: card reader, camera, scanner and printer as the kiosk page
sees them, the QA controls, and 人证比对 at the platform with what the simulator hands out."""

from __future__ import annotations

import pytest
from litestar.testing import AsyncTestClient

from backend.app import create_app
from backend.settings import load_settings

PERSON = "P002"  # 林晓燕, fixture person


@pytest.fixture
async def bridge(sqlite_url, tmp_path):
    settings = load_settings(
        env={},
        database_url=sqlite_url,
        data_dir=str(tmp_path),
        test_env=True,
        in_process_worker=False,
        log_format="text",
        log_level="WARNING",
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        yield client


async def test_card_reader_reads_the_card_qa_placed(bridge):
    assert (await bridge.get("/sandbox/device/card")).status_code == 404
    assert (await bridge.get("/sandbox/device/card")).json()["code"] == "no_card"
    placed = await bridge.post("/sandbox/device/card", json={"person_id": PERSON})
    assert placed.status_code == 200
    card = (await bridge.get("/sandbox/device/card")).json()
    assert card["name"] == "林晓燕" and card["id_number"] == "350102196602040372"
    assert (await bridge.get("/sandbox/device/status")).json()["card_present"] is True
    assert (await bridge.delete("/sandbox/device/card")).status_code == 204
    assert (await bridge.get("/sandbox/device/card")).status_code == 404


async def test_card_placement_is_validated(bridge):
    assert (await bridge.post("/sandbox/device/card", json={"person_id": "nobody"})).status_code == 404
    bad = await bridge.post("/sandbox/device/card", json={"id_number": "350102196602040373", "name": "某某"})
    assert bad.status_code == 422
    assert (await bridge.post("/sandbox/device/card", json={})).status_code == 422


async def test_scanner_hands_each_read_out_once(bridge):
    assert (await bridge.get("/sandbox/device/scanner")).json() == {"text": None}
    await bridge.post("/sandbox/device/scanner", json={"text": "http://x/#/case/abc"})
    assert (await bridge.get("/sandbox/device/scanner")).json() == {"text": "http://x/#/case/abc"}
    assert (await bridge.get("/sandbox/device/scanner")).json() == {"text": None}


async def test_printer_stores_receipts_to_read_back(bridge):
    await bridge.delete("/sandbox/device/printer/jobs")
    job = {
        "title": "受理回执",
        "lines": [{"label": "申请编号", "value": "ZX20261126-000123-4"}],
        "qr": "http://x/#/case/abc",
        "qr_caption": "扫码查看进度",
    }
    printed = await bridge.post("/sandbox/device/printer/jobs", json=job)
    assert printed.status_code == 201 and printed.json()["status"] == "printed"
    jobs = (await bridge.get("/sandbox/device/printer/jobs")).json()
    assert (
        len(jobs) == 1
        and jobs[0]["job"]["lines"][0]["value"] == "ZX20261126-000123-4"
        and jobs[0]["job"]["qr"] == job["qr"]
    )
    assert (await bridge.post("/sandbox/device/printer/jobs", json={"lines": []})).status_code == 400
    await bridge.post("/sandbox/device/printer", json={"paper": "out"})
    out = await bridge.post("/sandbox/device/printer/jobs", json=job)
    assert out.status_code == 503 and out.json()["code"] == "printer_paper_out"
    assert (await bridge.get("/sandbox/device/status")).json()["printer"] == "paper_out"


async def test_clearing_the_visitor_forgets_card_and_scan(bridge):
    await bridge.post("/sandbox/device/card", json={"person_id": PERSON})
    await bridge.post("/sandbox/device/scanner", json={"text": "code"})
    await bridge.post("/sandbox/device/camera", json={"face": "mismatch"})
    assert (await bridge.post("/sandbox/device/session/clear")).status_code == 204
    assert (await bridge.get("/sandbox/device/card")).status_code == 404
    assert (await bridge.get("/sandbox/device/scanner")).json() == {"text": None}


async def test_person_and_card_match_starts_a_visitor_session(bridge):
    """人证比对 end to end: terminal credential, card, frames → kiosk session; a mismatch is refused."""
    terminal = (await bridge.post("/sandbox/device/terminal/token")).json()["access_token"]
    auth = {"Authorization": f"Bearer {terminal}"}
    card = (await bridge.post("/sandbox/device/card", json={"person_id": PERSON})).json()

    await bridge.post("/sandbox/device/camera", json={"face": "mismatch"})
    frames = (await bridge.post("/sandbox/device/camera/frames", json={"count": 2})).json()["frames"]
    refused = await bridge.post(
        "/api/v1/kiosk/sessions",
        json={"id_number": card["id_number"], "name": card["name"], "frames": frames},
        headers=auth,
    )
    assert refused.status_code == 403 and refused.json()["code"] == "face_mismatch"

    await bridge.post("/sandbox/device/camera", json={"face": "match"})
    frames = (await bridge.post("/sandbox/device/camera/frames", json={})).json()["frames"]
    assert len(frames) == 3
    started = await bridge.post(
        "/api/v1/kiosk/sessions",
        json={"id_number": card["id_number"], "name": card["name"], "frames": frames},
        headers=auth,
    )
    assert started.status_code == 201, started.text
    visitor = started.json()
    me = (
        await bridge.get("/api/v1/me", headers={"Authorization": f"Bearer {visitor['tokens']['access_token']}"})
    ).json()
    assert me["person_id"] == PERSON and me["terminal_id"] == "kiosk-fz-01" and me["auth_method"] == "kiosk"

    await bridge.post("/sandbox/device/camera", json={"face": "absent"})
    assert (await bridge.post("/sandbox/device/camera/frames")).json()["code"] == "no_face"


async def test_only_kiosk_personas_get_terminal_credentials(bridge):
    assert (await bridge.post("/sandbox/device/terminal/token?terminal=admin")).status_code == 404
    assert (await bridge.post("/sandbox/device/terminal/token?terminal=kiosk-pt-01")).status_code == 200


async def test_the_bridge_is_absent_without_the_test_environment(sqlite_url, tmp_path):
    settings = load_settings(
        env={},
        database_url=sqlite_url,
        data_dir=str(tmp_path),
        test_env=False,
        in_process_worker=False,
        log_format="text",
        log_level="WARNING",
    )
    async with AsyncTestClient(app=create_app(settings)) as client:
        assert (await client.get("/sandbox/device/card")).status_code == 404
        # nothing answers it: the static front-end route refuses the method
        assert (await client.post("/sandbox/device/printer/jobs", json={"title": "x"})).status_code in (404, 405)
