"""``python -m bench [api|pipeline|lighthouse ...]``: run benchmarks, print and save the figures;
``python -m bench report`` writes the latest figures into docs/benchmarks.md."""

from __future__ import annotations

import importlib
import json
import platform
import sys
import time
from pathlib import Path

SUITES = ["api", "case_view", "pipeline", "lighthouse", "signatures"]
RESULTS = Path(__file__).resolve().parent / "results"


def machine() -> dict:
    import os

    cpu = next(
        (
            line.split(":", 1)[1].strip()
            for line in Path("/proc/cpuinfo").read_text().splitlines()
            if line.startswith("model name")
        ),
        platform.processor(),
    )
    mem_kb = next(
        int(line.split()[1]) for line in Path("/proc/meminfo").read_text().splitlines() if line.startswith("MemTotal")
    )
    return {
        "cpu": cpu,
        "cores": os.cpu_count(),
        "memory_gib": round(mem_kb / 1024 / 1024, 1),
        "python": platform.python_version(),
        "os": platform.platform(),
    }


def main(argv: list[str]) -> int:
    if argv == ["report"]:
        from bench.report import main as report

        return report()
    names = argv or SUITES
    unknown = [n for n in names if n not in SUITES]
    if unknown:
        print(f"unknown benchmark(s): {', '.join(unknown)}; choose from {', '.join(SUITES)}", file=sys.stderr)
        return 2
    RESULTS.mkdir(exist_ok=True)
    failed = []
    for name in names:
        module = importlib.import_module(f"bench.{name}")
        started = time.time()
        figures = module.run()
        result = {
            "benchmark": name,
            "measured_at": time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(started)),
            "machine": machine(),
            **figures,
        }
        (RESULTS / f"{name}.json").write_text(json.dumps(result, ensure_ascii=False, indent=2) + "\n")
        print(json.dumps(result, ensure_ascii=False, indent=2))
        missed = [t for t in result.get("targets", []) if not t.get("met")]
        for target in missed:
            print(f"MISSED {name}: {target['name']}: {target['value']} (target {target['target']})", file=sys.stderr)
        failed += missed
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
