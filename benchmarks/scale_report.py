"""The scale phase's tables (issue 16), and the explanation of any worker count at which the
bare app and keyguard move apart, written from what the run measured."""

from __future__ import annotations

import itertools
from collections.abc import Callable, Sequence
from typing import Any

__all__ = ["explain_workers", "render_scale"]

Table = Callable[[Sequence[str], Sequence[Sequence[str]], bool], list[str]]


def _lookups(sizes: dict[str, Any], what: str, count: str, table: Table, md: bool) -> list[str]:
    store = count == "keys"  # the store's sizes were seeded; Redis's were filled
    headers = [count, "sampled keys", "keyguard median us", "p99 us", "CPU us",
               f"bare {what} us", "x bare", "CPU x bare", "checked"]  # fmt: skip
    headers += ["seeded in s", "table / digest index MB"] if store else ["DBSIZE"]
    rows = []
    for size, s in sizes.items():
        mine, bare = s["cases"].values()
        row = [f"{int(size):,}", str(s["sampled_keys"]), f"{mine['median_us']:.1f}",
               f"{mine['p99_us']:.1f}", f"{mine['cpu_us']:.1f}", f"{bare['median_us']:.1f}",
               f"{s['ratio']:.2f}", f"{s['cpu_ratio']:.2f}", mine["verified"]]  # fmt: skip
        row += [f"{s['seed_s']:.1f}", _disk(s)] if store else [f"{s['dbsize']:,}"]
        rows.append(row)
    return table(headers, rows, md)


def _disk(size: dict[str, Any]) -> str:
    if "table_bytes" not in size:
        return ""
    return f"{size['table_bytes'] / 2**20:.1f} / {size['digest_index_bytes'] / 2**20:.1f}"


def _memory(memory: dict[str, Any], table: Table, md: bool) -> list[str]:
    headers = ["keys", "local B/key (tracemalloc)", "Redis B/entry (used_memory)",
               "Redis MEMORY USAGE of one", "entry value bytes"]  # fmt: skip
    rows = []
    for n, local in memory["local"].items():
        shared = memory["redis"].get(n, {})
        rows.append([f"{int(n):,}", f"{local['bytes_per_key']:.0f}",
                     f"{shared.get('bytes_per_entry', 0):.0f}",
                     str(shared.get("memory_usage_one", "")),
                     str(shared.get("value_bytes_one", ""))])  # fmt: skip
    return table(headers, rows, md)


def _workers(workers: dict[str, Any], table: Table, md: bool) -> list[str]:
    headers = ["workers", "app", "req/s", "p50 ms", "p99 ms", "server CPU us/req",
               "ctx switches/req", "wrk cores", "machine busy", "at rest, cores",
               "x bare"]  # fmt: skip
    rows = []
    for count, w in workers.items():
        for name in ("bare.starlette", "keyguard"):
            t = w[name]
            ratio = f"{w['ratio']:.2f}" if name == "keyguard" else "1.00"
            rows.append([count, name, f"{t['rps']:.0f}", f"{t['p50_ms']:.2f}",
                         f"{t['p99_ms']:.2f}", f"{t['cpu_us']:.0f}",
                         f"{t['switches_per_req']:.2f}", f"{t['wrk_cores']:.2f}",
                         f"{t['machine_busy']:.0%}", f"{w['at_rest']['cores'][name]:.3f}",
                         ratio])  # fmt: skip
    return table(headers, rows, md)


def _change(a: float, b: float) -> str:
    return f"{a:.0f} -> {b:.0f} ({(b / a - 1) * 100:+.0f}%)"


def _cores(run: dict[str, Any]) -> float:
    """Cores the server kept busy: requests a second times CPU seconds a request."""
    return float(run["rps"] * run["cpu_us"] / 1e6)


def _why(count: str, before: dict[str, Any], after: dict[str, Any]) -> str:
    kg0, kg1 = before["keyguard"], after["keyguard"]
    bare0, bare1 = before["bare.starlette"], after["bare.starlette"]
    rest = after["at_rest"]["cores"]
    background = rest["keyguard"] - rest["bare.starlette"]
    return (
        f"the machine's cores were {kg1['machine_busy']:.0%} busy during keyguard's runs at"
        f" {count} workers (its server {_cores(kg1):.2f} cores, wrk {kg1['wrk_cores']:.2f},"
        f" other work the rest), so a worker more adds no core, only a share of the same ones."
        f" Throughput is then cores over CPU per request: keyguard's server went from"
        f" {_cores(kg0):.2f} to {_cores(kg1):.2f} cores while its CPU per request went"
        f" {_change(kg0['cpu_us'], kg1['cpu_us'])} us; the bare app's from {_cores(bare0):.2f}"
        f" to {_cores(bare1):.2f} cores, {_change(bare0['cpu_us'], bare1['cpu_us'])} us."
        f" Context switches per request: keyguard {kg0['switches_per_req']:.2f} ->"
        f" {kg1['switches_per_req']:.2f}, bare {bare0['switches_per_req']:.2f} ->"
        f" {bare1['switches_per_req']:.2f}. keyguard's per-worker background work (each"
        f" worker polls the change log every 0.25 s and writes last-used times every 5 s) ran"
        f" {after['at_rest']['store_xacts_per_s']:.1f} store transactions a second at rest and"
        f" cost {background:+.3f} cores over the bare app's idle workers"
        f" ({background / max(1e-9, _cores(kg1)):.1%} of what keyguard's server used under"
        f" load); under load it ran {kg1.get('store_xacts_per_req', 0):.4f} store transactions"
        f" per request"
    )


def explain_workers(workers: dict[str, Any]) -> list[str]:
    """For each step up in workers at which the two apps moved apart (one rose, the other
    fell, or keyguard's share of the bare app's req/s fell by over a tenth): what the run
    measured that explains it. Empty when they moved alike."""
    counts = list(workers)
    lines = []
    for low, high in itertools.pairwise(counts):
        before, after = workers[low], workers[high]
        bare = (before["bare.starlette"]["rps"], after["bare.starlette"]["rps"])
        kg = (before["keyguard"]["rps"], after["keyguard"]["rps"])
        apart = (kg[1] < kg[0]) != (bare[1] < bare[0])
        if not apart and after["ratio"] >= 0.9 * before["ratio"]:
            continue  # moved alike: keyguard kept (nearly) its share of the bare app's req/s
        lines.append(
            f"From {low} to {high} workers the bare app went {_change(*bare)} req/s while"
            f" keyguard went {_change(*kg)} req/s: {_why(high, before, after)}."
        )
    return lines


def render_scale(section: dict[str, Any], table: Table, md: bool) -> list[str]:
    def heading(title: str) -> list[str]:
        return ["", f"### {title}", ""] if md else ["", title, "-" * len(title)]

    lines: list[str] = []
    if section["store"]:
        lines += heading("Keys in the store: Postgres hit (no Redis, no local cache)")
        lines += _lookups(section["store"], "asyncpg fetchrow", "keys", table, md)
    if section["redis"]:
        lines += heading("Entries in Redis: Redis hit (local cache off)")
        lines += _lookups(section["redis"], "redis-py GET", "entries", table, md)
    if section["memory"]["local"]:
        lines += heading("Memory per cached key") + _memory(section["memory"], table, md)
    if section["workers"]:
        lines += heading("Workers: uvicorn --workers N, wrk -t1 -c32, 127.0.0.1")
        lines += _workers(section["workers"], table, md)
        explained = explain_workers(section["workers"])
        lines += [""] + (explained or ["The two apps rose and fell together at every step."])
    bullet = "- " if md else "  "
    return lines + (
        [""] + [f"{bullet}CUT: {cut}" for cut in section["cuts"]] if section["cuts"] else []
    )
