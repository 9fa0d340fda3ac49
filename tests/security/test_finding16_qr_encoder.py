"""Finding 16: ``shared/qr.js`` closely followed a known MIT-licensed QR encoder without its notice.

It now draws with qrcode-generator, a maintained npm package (package.json, package-lock.json)
that carries its own MIT notice and is served by the platform itself at ``/vendor/``, never from
a CDN. Here the platform serves that exact file as JavaScript, ``shared/qr.js`` holds no encoder
of its own, and the QR code of a signing link drawn by the served modules in Node reads back with
zbarimg, as a phone camera would.
"""

from __future__ import annotations

import json
import re
import subprocess
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
LINK = "http://127.0.0.1:8000/sandbox/sign/session?request_id=sr01&signer=P002&nonce=" + "n" * 32 + "&t=企业注销"


async def test_finding16_the_qr_encoder_is_the_licensed_package_served_locally(live, tmp_path):
    package = json.loads((ROOT / "package.json").read_text())
    version = package["devDependencies"]["qrcode-generator"]
    installed = json.loads((ROOT / "node_modules" / "qrcode-generator" / "package.json").read_text())
    assert installed["version"] == version and installed["license"] == "MIT"

    served = await live.client.get("/vendor/qrcode-generator/qrcode.mjs")
    assert served.status_code == 200 and "javascript" in served.headers["content-type"], served.status_code
    assert served.content == (ROOT / "node_modules" / "qrcode-generator" / "dist" / "qrcode.mjs").read_bytes()
    assert "Licensed under the MIT license" in served.text and "Kazuhiko Arase" in served.text

    ours = (await live.client.get("/shared/qr.js")).text
    assert 'from "../vendor/qrcode-generator/qrcode.mjs"' in ours
    assert not re.search(r"function (gfMul|rsDivisor|rsRemainder|penalty)\b", ours), "a hand-written encoder"

    assert _draw_and_read(tmp_path, ours, served.content) == LINK


def _draw_and_read(folder: Path, qr_js: str, encoder: bytes) -> str:
    """Draw LINK with the modules exactly as served (laid out as the browser sees them); read it back."""
    (folder / "shared").mkdir()
    (folder / "shared" / "qr.js").write_text(qr_js)
    (folder / "vendor" / "qrcode-generator").mkdir(parents=True)
    (folder / "vendor" / "qrcode-generator" / "qrcode.mjs").write_bytes(encoder)
    script = folder / "draw.mjs"
    script.write_text(
        'import { qrEncode } from "./shared/qr.js";\n'
        "const m = qrEncode(process.argv[2]), s = 4, n = (m.length + 8) * s;\n"
        "let out = `P2\\n${n} ${n}\\n255\\n`;\n"
        "for (let y = 0; y < n; y++) { const row = [];\n"
        "  for (let x = 0; x < n; x++) { const my = Math.floor(y / s) - 4, mx = Math.floor(x / s) - 4;\n"
        "    row.push(m[my]?.[mx] ? 0 : 255); }\n"
        "  out += row.join(' ') + '\\n'; }\n"
        "process.stdout.write(out);\n"
    )
    image = folder / "qr.pgm"
    image.write_bytes(subprocess.run(["node", str(script), LINK], check=True, capture_output=True, timeout=60).stdout)
    decoded = subprocess.run(["zbarimg", "-q", "--raw", str(image)], capture_output=True, text=True, timeout=60)
    return decoded.stdout.rstrip("\n")
