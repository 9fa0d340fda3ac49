"""The start page stays small (≤ 60 KB of gzip-compressed JS and CSS, no CDN), the PWA is
installable (manifest, icons, service worker), and the QR codes the PWA draws decode to the
text they carry."""

from __future__ import annotations

import gzip
import shutil
import subprocess
from pathlib import Path
from urllib.parse import urlparse

import httpx
import pytest

ROOT = Path(__file__).resolve().parents[2]
BUDGET = 60 * 1024


async def test_first_page_js_and_css_fit_the_budget(browser, device, embedded_server):
    context = await browser.new_context(**device("iPhone SE"), service_workers="block")
    page = await context.new_page()
    assets: dict[str, bytes] = {}
    hosts: set[str] = set()

    async def keep(response):
        hosts.add(urlparse(response.url).netloc)
        if response.request.resource_type in {"script", "stylesheet"}:
            assets[response.url] = await response.body()

    page.on("response", keep)
    await page.goto(embedded_server.url + "/", wait_until="networkidle")
    await page.wait_for_selector('[data-testid="guides"][aria-busy="false"]')
    await context.close()
    sizes = {url: len(gzip.compress(body, 9)) for url, body in assets.items()}
    total = sum(sizes.values())
    assert any(u.endswith("/app.js") for u in sizes) and any(u.endswith("/tokens.css") for u in sizes)
    assert not any(u.endswith("/journey.js") for u in sizes), "the journey loads on demand, not on the start page"
    assert total <= BUDGET, f"{total} bytes gzip: {sizes}"
    assert hosts == {urlparse(embedded_server.url).netloc}, f"only our own origin: {hosts}"


def test_pwa_is_installable(embedded_server):
    manifest = httpx.get(embedded_server.url + "/manifest.webmanifest").json()
    assert manifest["start_url"] == "/" and manifest["display"] == "standalone" and manifest["lang"] == "zh-CN"
    sizes = {icon["sizes"] for icon in manifest["icons"]}
    assert {"192x192", "512x512"} <= sizes
    for icon in manifest["icons"]:
        response = httpx.get(embedded_server.url + icon["src"])
        assert response.status_code == 200 and response.headers["content-type"].startswith(icon["type"].split("+")[0])
    worker = httpx.get(embedded_server.url + "/sw.js")
    assert worker.status_code == 200 and "javascript" in worker.headers["content-type"]


@pytest.mark.parametrize(
    "text",
    [
        "hello",
        "http://127.0.0.1:8000/sandbox/sign/session?request_id=sr0123456789&signer=P002&nonce="
        + "n" * 32
        + "&sha256="
        + "0f" * 32
        + "&title=%E4%BC%81%E4%B8%9A%E6%B3%A8%E9%94%80",
        "企业注销“一件事”" * 60,
    ],
)
def test_qr_encoder_output_decodes(tmp_path, text):
    # shared/qr.js imports the encoder as the platform serves it (/vendor/...): lay the files out so
    (tmp_path / "shared").mkdir()
    shutil.copy(ROOT / "shared" / "qr.js", tmp_path / "shared")  # node resolves imports from a link's target
    (tmp_path / "vendor").mkdir()
    (tmp_path / "vendor" / "qrcode-generator").symlink_to(ROOT / "node_modules" / "qrcode-generator" / "dist")
    script = tmp_path / "qr.mjs"
    script.write_text(
        f'import {{ qrEncode }} from "{tmp_path / "shared" / "qr.js"}";\n'
        "const m = qrEncode(process.argv[2]); const s = 4, n = (m.length + 8) * s; "
        "let out = `P2\\n${n} ${n}\\n255\\n`;\n"
        "for (let y = 0; y < n; y++) { const row = []; for (let x = 0; x < n; x++) { const my = Math.floor(y / s) - 4, "
        "mx = Math.floor(x / s) - 4;\n"
        "  row.push(my >= 0 && mx >= 0 && my < m.length && mx < m.length && m[my][mx] ? 0 : 255); } "
        "out += row.join(' ') + '\\n'; }\n"
        "process.stdout.write(out);\n"
    )
    image = tmp_path / "qr.pgm"
    image.write_bytes(subprocess.run(["node", str(script), text], check=True, capture_output=True).stdout)
    decoded = subprocess.run(["zbarimg", "-q", "--raw", str(image)], capture_output=True, text=True).stdout
    assert decoded.rstrip("\n") == text
