"""The report: a table on stdout, and JSON, Markdown and a PNG chart in `benchmarks/results/`.

Everything is rendered from the run's JSON-able results, so a saved JSON can be re-rendered.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .targets import evaluate

__all__ = ["RESULTS_DIR", "render", "write_all"]

RESULTS_DIR = Path(__file__).resolve().parent / "results"
Results = dict[str, Any]
Row = Sequence[str]


def _table(headers: Row, rows: Sequence[Row], markdown: bool) -> list[str]:
    if markdown:
        lines = ["| " + " | ".join(headers) + " |", "|" + "---|" * len(headers)]
        return lines + ["| " + " | ".join(row) + " |" for row in rows]
    widths = [max(len(str(c)) for c in col) for col in zip(headers, *rows, strict=True)]
    fmt = "  ".join(f"{{:<{w}}}" if i == 0 else f"{{:>{w}}}" for i, w in enumerate(widths))
    return [fmt.format(*headers), fmt.format(*("-" * w for w in widths))] + [
        fmt.format(*row) for row in rows
    ]


def _section(title: str, markdown: bool) -> list[str]:
    return ["", f"## {title}", ""] if markdown else ["", title, "=" * len(title)]


def _meta_lines(meta: dict[str, Any], markdown: bool) -> list[str]:
    bullet = "- " if markdown else "  "
    command = f"`{meta['command']}`" if markdown else meta["command"]
    lines = [f"{bullet}command: {command}"]
    took = f"started {meta['started_at']}, took {meta['duration_s']:.0f} s"
    lines.append(f"{bullet}mode: {meta['mode']}, {took}")
    lines.append(f"{bullet}machine: {meta['machine']}")
    load = f"{meta['load_before']:.2f} / {meta['load_after']:.2f}"
    lines.append(f"{bullet}load average (1 min) before / after: {load}")
    versions = ", ".join(f"{k} {v}" for k, v in meta["versions"].items())
    lines.append(f"{bullet}versions: {versions}")
    lines += [f"{bullet}note: {n}" for n in meta.get("notes", [])]
    lines += [f"{bullet}MISSING: {m}" for m in meta.get("missing", [])]
    return lines


def _inprocess(section: dict[str, Any], markdown: bool) -> list[str]:
    headers = ["configuration", "median us", "p99 us", "CPU us", "x bare", "batch x rounds"]
    headers.append("checked")
    rows = [
        [
            c["label"],
            f"{c['median_us']:.2f}",
            f"{c['p99_us']:.2f}",
            f"{c['cpu_us']:.2f}",
            f"{c['ratio']:.2f}",
            f"{c['batch_size']} x {c['rounds']}",
            c["verified"],
        ]
        for c in section.get("cases", {}).values()
    ]
    rows += [[name, "skipped", why, *[""] * 4] for name, why in section.get("skipped", {}).items()]
    return _table(headers, rows, markdown)


def _e2e(section: dict[str, Any], markdown: bool) -> list[str]:
    headers = ["configuration", "req/s", "p50 ms", "p99 ms", "server CPU us/req", "x bare"]
    headers += ["keyguard x", "errors"]
    targets = section.get("targets", {})
    keyguard = targets.get("keyguard", {}).get("rps")
    rows = [
        [
            t["label"],
            f"{t['rps']:.0f}",
            f"{t['p50_ms']:.2f}",
            f"{t['p99_ms']:.2f}",
            f"{t['cpu_us']:.0f}",
            f"{t['ratio']:.2f}",
            f"{keyguard / t['rps']:.2f}" if keyguard else "",
            f"{t['errors']}/{t['bad_status']}",
        ]
        for t in targets.values()
    ]
    rows += [[name, "skipped", why, *[""] * 5] for name, why in section.get("skipped", {}).items()]
    lines = [f"settings: {section.get('settings', {})}", ""]
    return lines + _table(headers, rows, markdown)


def _scale(section: dict[str, Any], markdown: bool) -> list[str]:
    lines: list[str] = []
    sizes = section.get("store_size", [])
    if sizes:
        headers = ["keys in store", "store hit us", "x bare", "local hit us", "x bare"]
        rows = [
            [
                f"{s['keys']:,}",
                f"{s['keyguard.store_hit.postgres']['median_us']:.1f}",
                f"{s['keyguard.store_hit.postgres']['ratio']:.2f}",
                f"{s['keyguard.local_hit']['median_us']:.2f}",
                f"{s['keyguard.local_hit']['ratio']:.2f}",
            ]
            for s in sizes
        ]
        lines += ["", "cost against keys in the store (Postgres, in-process):", ""]
        lines += _table(headers, rows, markdown)
    rates = section.get("hit_rate", [])
    if rates:
        headers = ["local-cache hit rate", "measured", "median us", "p99 us", "x bare"]
        rows = [
            [f"{h['rate']:.0%}", f"{h['measured_rate']:.1%}", f"{h['median_us']:.1f}",
             f"{h['p99_us']:.1f}", f"{h['ratio']:.2f}"]
            for h in rates
        ]  # fmt: skip
        lines += ["", "cost against the local cache's hit rate (misses answered by Redis):", ""]
        lines += _table(headers, rows, markdown)
    workers = section.get("workers", [])
    if workers:
        headers = [
            "workers",
            "bare req/s",
            "keyguard req/s",
            "x bare",
            "keyguard p99 ms",
            "revocation",
        ]
        rows = [[str(w["workers"]), f"{w['bare_rps']:.0f}", f"{w['keyguard_rps']:.0f}",
                 f"{w['ratio']:.2f}", f"{w['keyguard_p99_ms']:.2f}", _revocation(w["revocation"])]
                for w in workers]  # fmt: skip
        lines += ["", "worker processes sharing Redis and Postgres (end to end):", ""]
        lines += _table(headers, rows, markdown)
    lines += [f"skipped: {k}: {v}" for k, v in section.get("skipped", {}).items()]
    return lines


def _revocation(r: dict[str, Any]) -> str:
    refused = "all refused" if r["all_refused"] else f"NOT all refused within {r['bound_s']:g} s"
    seen = f"{r['workers_seen']}/{r['workers']} workers probed"
    return f"{r['delay_ms']:.0f} ms ({seen}, {refused})"


def _breakdown(section: dict[str, Any], markdown: bool) -> list[str]:
    lines: list[str] = []
    for ladder in section.get("ladders", []):
        lines += ["", f"{ladder['title']}:", ""]
        rows = [
            [s["label"], f"{s['cpu_us']:.1f}", f"{s['step_cpu_us']:+.1f}", f"{s['median_us']:.1f}"]
            for s in ladder["steps"]
        ]
        headers = ["step (cumulative)", "CPU us", "adds CPU us", "wall us"]
        lines += _table(headers, rows, markdown)
    for profile in section.get("profiles", []):
        lines += [
            "",
            f"cProfile, {profile['kind']} ({profile['requests']} requests), top by own time:",
            "",
        ]
        rows = [
            [f["function"], f"{f['share']:.1%}", f"{f['us_per_request']:.2f}"]
            for f in profile["functions"]
        ]
        lines += _table(["function", "share", "us/request (profiled)"], rows, markdown)
    return lines


def _targets(results: Results, markdown: bool) -> list[str]:
    rows = []
    for v in evaluate(results):
        unit = "x" if v.unit == "x" else " us"
        measured = "" if v.measured is None else f"{v.measured:.2f}{unit}"
        limit = ("<= " if v.at_most else ">= ") + f"{v.limit:g}{unit}"
        rows.append([v.status(), v.target, measured, limit, v.margin, v.detail])
    return _table(["status", "target", "measured", "limit", "margin", "detail"], rows, markdown)


def render(results: Results, *, markdown: bool = False) -> str:
    title = "keyguard benchmarks"
    lines = [f"# {title}", ""] if markdown else [title, "=" * len(title)]
    lines += _meta_lines(results["meta"], markdown)
    parts = [
        ("In-process (ASGI app called directly, uvloop): per request", "inprocess", _inprocess),
        ("End to end (uvicorn, 1 worker, 127.0.0.1)", "e2e", _e2e),
        ("Scale", "scale", _scale),
        ("Where the time goes (for targets missed)", "breakdown", _breakdown),
    ]
    for heading, key, render_part in parts:
        if results.get(key):
            lines += _section(heading, markdown) + render_part(results[key], markdown)
    lines += _section("Targets (issue 5)", markdown) + _targets(results, markdown)
    return "\n".join(lines) + "\n"


def _write(path: Path, data: bytes) -> None:
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_bytes(data)
    os.replace(tmp, path)


def write_all(results: Results, out_dir: Path = RESULTS_DIR) -> list[Path]:
    """`<mode>.json`, `<mode>.md` and `<mode>.png` in `out_dir`; returns what was written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / results["meta"]["mode"]
    results = {**results, "targets": [v.to_json() for v in evaluate(results)]}
    _write(stem.with_suffix(".json"), json.dumps(results, indent=2).encode())
    _write(stem.with_suffix(".md"), render(results, markdown=True).encode())
    written = [stem.with_suffix(".json"), stem.with_suffix(".md")]
    from .chart import write_chart  # matplotlib is optional: the `bench` extra

    problem = write_chart(results, stem.with_suffix(".png"))
    if problem is None:
        written.append(stem.with_suffix(".png"))
    else:
        results["meta"].setdefault("notes", []).append(problem)
    return written
