"""``python -m bench report``: write the latest figures (bench/results/*.json) into docs/benchmarks.md,
between the ``figures`` markers, so the document never disagrees with the measurements."""

from __future__ import annotations

import json
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
RESULTS = ROOT / "bench" / "results"
DOC = ROOT / "docs" / "benchmarks.md"
START, END = "<!-- figures:start (python -m bench report) -->", "<!-- figures:end -->"


def _targets(result: dict) -> list[str]:
    return [
        f"| {t['name']} | {t['value']} | {t['target']} | {'met' if t['met'] else '**missed**'} |"
        for t in result.get("targets", [])
    ]


def _api(r: dict) -> list[str]:
    reads, subs, lag = r["reads"], r["submissions"], r["dispatch_lag_s"]
    c = r["config"]
    out = [
        f"API processes {c['api_processes']}, workers {c['workers']}; reads: {c['read_connections']} connections for "
        f"{c['read_seconds']} s over "
        f"{c['read_cases']} cases; submissions: {c['submissions']} at concurrency {c['submit_concurrency']}; "
        f"dispatch lag: {c.get('lag_cases')} cases at {c.get('lag_submissions_per_s')} per second.",
        "",
        "| endpoint | requests/s | p50 ms | p90 ms | p99 ms | errors |",
        "|---|---|---|---|---|---|",
    ]
    for name in ("status", "full_view", "bare_litestar"):
        x = reads[name]
        path = {"status": "/api/v1/cases/{id}/status", "full_view": "/api/v1/cases/{id}"}.get(name, "bare Litestar")
        out.append(
            f"| GET {path} | {x['requests_per_s']} | {x.get('p50_ms')} | {x.get('p90_ms')} | {x.get('p99_ms')} | "
            f"{x['non_2xx'] + x['socket_errors']} |"
        )
    for name in ("platform", "bare_litestar"):
        x = subs[name]
        out.append(
            f"| POST {'…/submit' if name == 'platform' else 'bare Litestar'} | {x['requests_per_s']} | {x['p50_ms']} | "
            f"{x['p90_ms']} | {x['p99_ms']} | {x['failures']} |"
        )
    out += [
        "",
        f"Status reads reach {reads['status_to_bare_ratio']} of the bare endpoint's throughput; submissions "
        f"{subs['throughput_ratio']}.",
        f"Dispatch lag (submission → first item accepted by an agency system): p50 {lag['p50']} s, p90 {lag['p90']} s, "
        f"p99 {lag['p99']} s.",
    ]
    return out


def _pipeline(r: dict) -> list[str]:
    c = r["config"]
    return [
        f"{c['cases']} cases, {c['workers']} workers, {c['api_processes']} API "
        f"process{'es' if c['api_processes'] != 1 else ''}, simulated processing time 0: "
        f"**{r['pipeline_s']} s** ({r['cases_per_s']} cases/s, {r['agency_submissions_per_s']} agency submissions/s; "
        f"{r['agency_submissions']} submissions, {r['callbacks_delivered']} callbacks"
        + (
            f" in {r['callback_requests']} requests, {c['agency_protocol']} protocol"
            if "callback_requests" in r
            else ""
        )
        + f", {r['duplicates']} duplicates, "
        f"{r['dead_jobs']} dead jobs).",
        "",
        "| role | CPU s | CPU ms per agency submission | peak RSS MB |",
        "|---|---|---|---|",
        *[
            f"| {role} | {sec} | {r['cpu_ms_per_agency_submission'][role]} | {r['peak_rss_mb'].get(role, '')} |"
            for role, sec in r["cpu_seconds_by_role"].items()
        ],
        *(
            [
                "",
                f"The platform's own roles (API, workers, PostgreSQL, Redis): "
                f"**{r['platform_cpu_ms_per_agency_submission']} ms** of CPU per agency submission "
                f"(preparing and submitting the cases beforehand: {r['prepare_and_submit_s']} s).",
            ]
            if "platform_cpu_ms_per_agency_submission" in r
            else []
        ),
    ]


def _lighthouse(r: dict) -> list[str]:
    out = [
        "| page | emulation | performance | accessibility | best practices | FCP ms | LCP ms | TBT ms | CLS | "
        "first-page JS+CSS gzip |",
        "|---|---|---|---|---|---|---|---|---|---|",
    ]
    for p in r["pages"]:
        s, m = p["scores"], p["metrics"]
        budget = p.get("first_page_js_css", {}).get("gzip_bytes")
        out.append(
            f"| {p['name']} `{p['path']}` | {p['emulation']} | {s.get('performance')} | {s.get('accessibility')} | "
            f"{s.get('best-practices')} | "
            f"{round(m['fcp_ms'])} | {round(m['lcp_ms'])} | {round(m['tbt_ms'])} | {round(m['cls'], 3)} | "
            f"{f'{budget / 1024:.1f} KB' if budget else ''} |"
        )
    return out


def _signatures(r: dict) -> list[str]:
    c, a, h = r["config"], r["algorithms"], r["timeline_hash"]
    out = [
        f"One core, {c['seconds_per_figure']} s per figure, a {c['message_bytes']}-byte message (gmssl-pyx "
        f"{r['library']['gmssl-pyx']} for SM2/SM3, cryptography for ES256).",
        "",
        "| algorithm | sign/s | verify/s | detached JWS sign/s | detached JWS verify/s |",
        "|---|---|---|---|---|",
    ]
    for name, x in a.items():
        out.append(
            f"| {name} | {x['sign_per_s']} | {x['verify_per_s']} | {x['jws_sign_per_s']} | {x['jws_verify_per_s']} |"
        )
    out += [
        "",
        f"Timeline hash over a {c['event_bytes']}-byte event: SHA-256 {h['sha256_per_s']}/s, SM3 {h['sm3_per_s']}/s.",
    ]
    return out


def render() -> str:
    lines = [START, ""]
    for name, title, body in (
        ("api", "API", _api),
        ("pipeline", "Pipeline and memory", _pipeline),
        ("lighthouse", "Lighthouse", _lighthouse),
        ("signatures", "Signatures (ES256 and SM2/SM3)", _signatures),
    ):
        path = RESULTS / f"{name}.json"
        if not path.exists():
            continue
        result = json.loads(path.read_text())
        m = result["machine"]
        lines += [
            f"### {title}",
            "",
            f"Measured {result['measured_at']} on {m['cpu']}, {m['cores']} cores, {m['memory_gib']} GiB, Python "
            f"{m['python']}.",
            "",
        ]
        lines += body(result) + ["", "| target | value | required | |", "|---|---|---|---|", *_targets(result), ""]
    return "\n".join(lines + [END])


def main() -> int:
    text = DOC.read_text()
    head, _, rest = text.partition(START)
    _, _, tail = rest.partition(END)
    DOC.write_text(head + render() + tail)
    print(f"wrote the figures into {DOC.relative_to(ROOT)}")
    return 0
