"""The report: a table on stdout, and JSON and Markdown in `benchmarks/results/`, which the
README's "How fast" section summarises.

Everything is rendered from the run's JSON-able results, so a saved JSON can be re-rendered.
"""

from __future__ import annotations

import json
import os
from collections.abc import Sequence
from pathlib import Path
from typing import Any

from .scale_report import render_scale
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


def _ratio(value: float | None) -> str:
    return "" if value is None else f"{value:.2f}"


def _meta_lines(meta: dict[str, Any], markdown: bool) -> list[str]:
    bullet = "- " if markdown else "  "
    command = f"`{meta['command']}`" if markdown else meta["command"]
    load = f"{meta['load_before']:.2f} / {meta['load_after']:.2f}"
    lines = [
        f"command: {command}",
        f"mode: {meta['mode']}, started {meta['started_at']}, took {meta['duration_s']:.0f} s",
        f"machine: {meta['machine']}",
        f"load average (1 min) before / after: {load}",
        *_load_averages(meta),
        "versions: " + ", ".join(f"{k} {v}" for k, v in meta["versions"].items()),
        *(f"note: {note}" for note in meta.get("notes", [])),
    ]
    return [bullet + line for line in lines]


def _load_averages(meta: dict[str, Any]) -> list[str]:
    if "load_averages_after" not in meta:  # a report saved before issue 16
        return []
    before, after = (
        " ".join(f"{v:.2f}" for v in meta[f"load_averages_{when}"]) for when in ("before", "after")
    )
    return [f"load averages (1, 5, 15 min, as `uptime`) before: {before}; after: {after}"]


def _inprocess(section: dict[str, Any], markdown: bool) -> list[str]:
    headers = ["configuration", "median us", "p99 us", "CPU us", "x bare", "batch x rounds"]
    headers.append("checked")
    rows = [
        [
            c["label"],
            f"{c['median_us']:.2f}",
            f"{c['p99_us']:.2f}",
            f"{c['cpu_us']:.2f}",
            _ratio(c["ratio"]),
            f"{c['batch_size']} x {c['rounds']}",
            c["verified"],
        ]
        for c in section["cases"].values()
    ]
    return _table(headers, rows, markdown)


def _e2e(section: dict[str, Any], markdown: bool) -> list[str]:
    headers = ["configuration", "req/s", "p50 ms", "p99 ms", "server CPU us/req", "x bare"]
    headers += ["keyguard x", "errors"]
    targets = section["targets"]
    keyguard = targets.get("keyguard", {}).get("rps")
    rows = [
        [
            t["label"],
            f"{t['rps']:.0f}",
            f"{t['p50_ms']:.2f}",
            f"{t['p99_ms']:.2f}",
            f"{t['cpu_us']:.0f}",
            _ratio(t["ratio"]),
            _ratio(keyguard / t["rps"] if keyguard else None),
            f"{t['errors']}/{t['bad_status']}",
        ]
        for t in targets.values()
    ]
    lines = [f"settings: {section['settings']}", ""]
    return lines + _table(headers, rows, markdown)


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
    if "inprocess" in results:
        heading = "In-process (ASGI app called directly, uvloop): per request"
        lines += _section(heading, markdown) + _inprocess(results["inprocess"], markdown)
    if "e2e" in results:
        heading = "End to end (uvicorn, 1 worker, wrk, 127.0.0.1)"
        lines += _section(heading, markdown) + _e2e(results["e2e"], markdown)
    if "scale" in results:
        heading = "Scale (issue 16): keys in the store, entries in Redis, memory, workers"
        lines += _section(heading, markdown) + render_scale(results["scale"], _table, markdown)
    lines += _section("Targets (issues 5, 13, 14 and 15)", markdown) + _targets(results, markdown)
    return "\n".join(lines) + "\n"


def _write(path: Path, text: str) -> None:
    # Whole or not at all: a run stopped half-way leaves the last complete report in place.
    tmp = path.with_suffix(path.suffix + ".tmp")
    tmp.write_text(text)
    os.replace(tmp, path)


def write_all(results: Results, out_dir: Path = RESULTS_DIR) -> list[Path]:
    """`<mode>.json` and `<mode>.md` in `out_dir`; returns what was written."""
    out_dir.mkdir(parents=True, exist_ok=True)
    stem = out_dir / results["meta"]["mode"]
    results = {**results, "targets": [v.to_json() for v in evaluate(results)]}
    written = [stem.with_suffix(".json"), stem.with_suffix(".md")]
    _write(written[0], json.dumps(results, indent=2))
    _write(written[1], render(results, markdown=True))
    return written
