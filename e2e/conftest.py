"""Playwright fixtures: Debian's Chromium (never a downloaded browser), device emulation,
an axe-core scan, and screenshots kept under test-results/ as artifacts."""

from __future__ import annotations

import json
import os
import shutil
from pathlib import Path

import pytest
from axe_playwright_python.async_playwright import Axe
from playwright.async_api import async_playwright

from e2e.readable import unreadable

CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
    "--disable-quic",
]
# The device list is data (e2e/devices.json); DEVICES="iPhone SE,Pixel 7,kiosk-portrait" narrows the phones walked.
DEVICE_DATA = json.loads((Path(__file__).parent / "devices.json").read_text())
_CHOSEN = [d.strip() for d in os.environ.get("DEVICES", "").split(",") if d.strip()]
PHONES = [p for p in DEVICE_DATA["phones"] if not _CHOSEN or p in _CHOSEN]
KIOSK_PORTRAIT = DEVICE_DATA["kiosks"]["kiosk-portrait"]
KIOSK_LANDSCAPE = DEVICE_DATA["kiosks"]["kiosk-landscape"]
AXE_OPTIONS = {
    "runOnly": {"type": "tag", "values": ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa", "wcag22aa", "best-practice"]}
}


def pytest_collection_modifyitems(items):
    for item in items:
        if "/e2e/" in str(item.fspath):
            item.add_marker(pytest.mark.e2e)


@pytest.fixture(scope="session")
async def playwright():
    async with async_playwright() as pw:
        yield pw


@pytest.fixture(scope="session")
async def browser(playwright):
    browser = await playwright.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS)
    yield browser
    await browser.close()


@pytest.fixture
def device(playwright):
    """Context options for a named device ('iPhone 13', 'kiosk-portrait' ...)."""

    def options(name: str) -> dict:
        if name == "kiosk-portrait":
            return dict(KIOSK_PORTRAIT)
        if name == "kiosk-landscape":
            return dict(KIOSK_LANDSCAPE)
        return dict(playwright.devices[name])

    return options


@pytest.fixture
def shot(artifacts_dir, request):
    """Save a full-page screenshot named after the test and a step."""
    folder = artifacts_dir / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)

    async def take(page, step: str) -> None:
        name = f"{request.node.name}-{step}".replace("/", "_").replace(" ", "_").replace("[", "-").replace("]", "")
        await page.screenshot(path=str(folder / f"{name}.png"), full_page=True)

    return take


@pytest.fixture(scope="session")
def axe():
    checker = Axe()

    async def scan(page) -> list[str]:
        results = await checker.run(page, options=AXE_OPTIONS)
        found = [f"{v['id']}: {v['help']} ({len(v['nodes'])} nodes)" for v in results.response["violations"]]
        if "/staff/" not in page.url:  # what applicants and kiosk visitors read: no codes, one language
            found += await unreadable(page)
        return found

    return scan
