"""Fixtures of the kiosk end-to-end tests: the platform in embedded mode with the device
bridge simulator, and helpers that drive the simulated card reader, camera and scanner."""

from __future__ import annotations

import os
import tempfile

import httpx
import pytest

from tests.servers import PlatformProcess, wait_for


@pytest.fixture(scope="session")
def kiosk_server(artifacts_dir):
    """The platform exactly as ``make run`` starts it (the device bridge simulator is part of the
    test environment), with a kiosk idle timeout long enough for the tests that do not wait for it;
    or the deployment at ``BASE_URL`` (its test environment on)."""
    if os.environ.get("BASE_URL"):
        from types import SimpleNamespace

        yield SimpleNamespace(url=os.environ["BASE_URL"].rstrip("/"))
        return
    server = PlatformProcess(
        "run", artifacts_dir, data_dir=tempfile.mkdtemp(prefix="kiosk."), log_format="json", kiosk_idle_seconds="120"
    )
    server.start()
    wait_for(
        lambda: httpx.get(server.url + "/sandbox/device/status", timeout=1).status_code == 200,
        "device bridge simulator",
        30,
    )
    try:
        yield server
    finally:
        server.stop()


class Devices:
    """QA's hands at the simulated terminal."""

    def __init__(self, base: str) -> None:
        self.http = httpx.Client(base_url=base + "/sandbox/device", timeout=10)

    def place_card(self, person_id: str) -> dict:
        return self.http.post("/card", json={"person_id": person_id}).raise_for_status().json()

    def camera(self, face: str) -> None:
        self.http.post("/camera", json={"face": face}).raise_for_status()

    def scan(self, text: str) -> None:
        self.http.post("/scanner", json={"text": text}).raise_for_status()

    def printed(self) -> list[dict]:
        return self.http.get("/printer/jobs").raise_for_status().json()

    def reset(self) -> None:
        self.http.post("/session/clear").raise_for_status()
        self.http.delete("/printer/jobs").raise_for_status()


@pytest.fixture
def devices(kiosk_server):
    d = Devices(kiosk_server.url)
    d.reset()
    yield d
    d.reset()
    d.http.close()
