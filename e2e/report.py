"""``python -m e2e.report``: an HTML report of the last e2e run for QA, from its JUnit XML
(test-results/e2e-junit.xml) and the screenshots each walk took step by step
(test-results/screenshots/<test>-<step>.png), one section per test."""

from __future__ import annotations

import html
import sys
import xml.etree.ElementTree as ET
from pathlib import Path

RESULTS = Path("test-results")


def build(junit: Path, shots: Path, out: Path) -> Path:
    """Write ``out``: every test case with its outcome, its failure message and its screenshots."""
    cases = ET.parse(junit).getroot().iter("testcase")
    parts = [
        "<!doctype html><meta charset=utf-8><title>e2e report</title>",
        "<style>body{font-family:sans-serif;margin:2em}img{max-width:240px;border:1px solid #ccc;margin:4px}"
        ".failed{color:#b00}.passed{color:#060}pre{white-space:pre-wrap;background:#f6f6f6;padding:1em}</style>",
        "<h1>End-to-end walks</h1>",
    ]
    for case in cases:
        name = case.get("name", "")
        failure = case.find("failure") if case.find("failure") is not None else case.find("error")
        skipped = case.find("skipped") is not None
        state = "failed" if failure is not None else "skipped" if skipped else "passed"
        parts.append(f"<h2 class={state}>{html.escape(case.get('classname', ''))}::{html.escape(name)} — {state}</h2>")
        if failure is not None:
            parts.append(f"<pre>{html.escape((failure.get('message') or '')[:4000])}</pre>")
        stem = name.replace("/", "_").replace(" ", "_").replace("[", "-").replace("]", "")
        for shot in sorted(shots.glob(f"{stem}-*.png")):
            rel = shot.relative_to(out.parent)
            parts.append(
                f"<a href='{rel}'><img src='{rel}' alt='{html.escape(shot.stem)}' title='{html.escape(shot.stem)}'></a>"
            )
    out.write_text("\n".join(parts), encoding="utf-8")
    return out


if __name__ == "__main__":
    print(build(RESULTS / "e2e-junit.xml", RESULTS / "screenshots", RESULTS / "e2e-report.html"), file=sys.stderr)
