"""The PNG a person can look at: latency per configuration, throughput per configuration, and
throughput against worker processes. matplotlib comes with the `bench` extra."""

from __future__ import annotations

import importlib.util
import os
from pathlib import Path
from typing import Any

__all__ = ["write_chart"]


def write_chart(results: dict[str, Any], path: Path) -> str | None:
    """Write the chart; return why not when it cannot be drawn."""
    if importlib.util.find_spec("matplotlib") is None:
        return "no chart: matplotlib is not installed (pip install -e '.[bench]')"
    import matplotlib

    matplotlib.use("Agg")  # files only, never a window
    import matplotlib.pyplot as plt

    fig = plt.figure(figsize=(13, 12), layout="constrained")
    top, bottom = fig.subfigures(2, 1, height_ratios=[1.3, 1])  # type: ignore[misc]
    _latency(top.subplots(), results.get("inprocess", {}).get("cases", {}))
    left, right = bottom.subplots(1, 2, width_ratios=[2.2, 1])
    _throughput(left, results.get("e2e", {}).get("targets", {}))
    _workers(right, results.get("scale", {}).get("workers", []))
    meta = results["meta"]
    fig.suptitle(f"keyguard benchmarks ({meta['mode']}) - {meta['machine']}", fontsize=10)
    tmp = path.with_suffix(".png.tmp")
    fig.savefig(tmp, dpi=110, format="png")
    plt.close(fig)
    os.replace(tmp, path)
    return None


def _latency(ax: Any, cases: dict[str, Any]) -> None:
    shown = [c for c in cases.values() if not c["name"].endswith(".decision")]
    labels = [c["label"] for c in shown]
    medians = [c["median_us"] for c in shown]
    p99 = [c["p99_us"] - c["median_us"] for c in shown]
    colors = [_color(c["name"]) for c in shown]
    ax.barh(labels, medians, xerr=[[0] * len(p99), p99], color=colors, capsize=2)
    ax.set_xscale("log")
    ax.invert_yaxis()
    ax.set_xlabel("in-process time per request, us (bar: median, whisker: p99), log scale")
    ax.tick_params(axis="y", labelsize=8)
    for y, value in enumerate(medians):
        ax.text(value, y, f" {value:.3g}", va="center", fontsize=7)


def _throughput(ax: Any, targets: dict[str, Any]) -> None:
    labels = [t["label"] for t in targets.values()]
    rps = [t["rps"] for t in targets.values()]
    ax.barh(labels, rps, color=[_color(name) for name in targets])
    ax.invert_yaxis()
    ax.set_xlabel("end-to-end requests/s (uvicorn, 1 worker)")
    ax.tick_params(axis="y", labelsize=8)
    for y, value in enumerate(rps):
        ax.text(value, y, f" {value:.0f}", va="center", fontsize=7)


def _workers(ax: Any, rows: list[dict[str, Any]]) -> None:
    counts = [r["workers"] for r in rows]
    ax.plot(counts, [r["bare_rps"] for r in rows], "o-", label="bare Starlette", color="#888")
    ax.plot(counts, [r["keyguard_rps"] for r in rows], "o-", label="keyguard", color="#1f6f3f")
    ax.set_xticks(counts or [1])
    ax.set_xlabel("uvicorn worker processes")
    ax.set_ylabel("requests/s")
    ax.set_ylim(bottom=0)
    ax.set_title("throughput vs processes", fontsize=9)
    ax.legend(fontsize=8)


def _color(name: str) -> str:
    if name.startswith("keyguard"):
        return "#1f6f3f"
    if name.startswith("alt."):
        return "#b5523b"
    if name.startswith("ref.") or name == "floor":
        return "#4a6fa5"
    return "#888888"
