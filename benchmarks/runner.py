"""The run: check what is there, make this run's database, Redis prefix and keys, run the two
phases (in-process, then end to end) within the mode's time, write the report, and remove
everything it made. One entry point, so a run is always bounded and always cleans up.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import functools
import os
import shutil
import signal
import sys
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvloop

from . import alternatives, inprocess, report
from .cases import ALTERNATIVES, LABELS, build
from .e2e import LoadSettings, run_e2e
from .environment import POSTGRES_URL, REDIS_URL, BenchEnv, missing, run_environment
from .machine import describe_machine, versions
from .scale import run_scale

__all__ = ["MODES", "Mode", "main"]


@dataclass(frozen=True)
class Mode:
    name: str
    time_limit: float  # seconds for the phases; cleanup comes on top
    rounds: int  # in-process rounds
    batch_seconds: float  # in-process batch length
    load_seconds: int  # per wrk run
    load_rounds: int
    # Where each phase must end, in seconds from the start: past `inprocess_until` the
    # in-process phase stops after the round it is in (never before 3), end to end starts no
    # round past `e2e_until`, and the scale phase (issue 16) has until `time_limit`.
    inprocess_until: float
    e2e_until: float


MODES = {
    "smoke": Mode("smoke", 90, rounds=2, batch_seconds=0.0005, load_seconds=1, load_rounds=1,
                  inprocess_until=21, e2e_until=60),
    "quick": Mode("quick", 180, rounds=20, batch_seconds=0.01, load_seconds=2, load_rounds=2,
                  inprocess_until=31.5, e2e_until=90),
    # The scale phase needs ~6-10 minutes on 2 cores (1M keys seeded, 3 worker counts loaded).
    "full": Mode("full", 1500, rounds=200, batch_seconds=0.025, load_seconds=10,
                 load_rounds=3, inprocess_until=315, e2e_until=900),
}  # fmt: skip


def say(start: float, message: str) -> None:
    print(f"[{time.monotonic() - start:6.1f} s] {message}", file=sys.stderr, flush=True)


def _labelled(rows: dict[str, dict[str, Any]], field: str) -> dict[str, dict[str, Any]]:
    """Each row with its name, label and ratio to the bare app measured in the same run."""
    base = rows.get("bare.starlette", {}).get(field)
    return {
        name: {**row, "name": name, "label": LABELS[name], "ratio": base and row[field] / base}
        for name, row in rows.items()
    }


async def inprocess_phase(env: BenchEnv, mode: Mode, deadline: float) -> dict[str, Any]:
    async with contextlib.AsyncExitStack() as stack:
        cases = await build(env, stack)
        measured = await inprocess.run(
            cases, rounds=mode.rounds, batch_seconds=mode.batch_seconds, deadline=deadline
        )
    settings = {"rounds": mode.rounds, "batch_seconds": mode.batch_seconds, "loop": "uvloop"}
    return {"settings": settings, "cases": _labelled(measured, "median_us")}


async def e2e_phase(env: BenchEnv, load: LoadSettings, deadline: float) -> dict[str, Any]:
    names = ["bare.starlette", "keyguard", *ALTERNATIVES]
    measured = await run_e2e(names, env, load, deadline=deadline)
    settings = {**dataclasses.asdict(load), "threads": 1, "warmup_s": 1, "workers": 1}
    return {"settings": settings, "targets": _labelled(measured, "rps")}


async def _phases(args: argparse.Namespace, env: BenchEnv, start: float) -> dict[str, Any]:
    mode = MODES[args.mode]
    share = (args.time_limit or mode.time_limit) / mode.time_limit  # --time-limit scales all
    say(start, "in-process")
    deadline = start + mode.inprocess_until * share
    results = {"inprocess": await inprocess_phase(env, mode, deadline)}
    wrk = shutil.which("wrk")
    load = None
    if "e2e" not in args.skip and wrk is not None:
        load = LoadSettings(wrk, args.http, mode.load_seconds, mode.load_rounds)
        say(start, "end to end (wrk)")
        results["e2e"] = await e2e_phase(env, load, start + mode.e2e_until * share)
    if "scale" not in args.skip:
        say(start, "scale: keys in the store, entries in Redis, memory, workers")
        deadline = start + mode.time_limit * share
        progress = functools.partial(say, start)
        results["scale"] = await run_scale(env, mode.name, load, deadline=deadline, say=progress)
        for cut in results["scale"]["cuts"]:
            say(start, f"CUT: {cut}")
    return results


def _notes(args: argparse.Namespace, absent: dict[str, str]) -> list[str]:
    notes = [
        "garbage is measured on its 401 path: the failure limit is lifted, else one client's"
        " garbage becomes 429s after 20 requests (a path as cheap)",
    ]
    if "wrk" in absent:
        notes.append(f"end to end skipped: {absent['wrk']}")
    if "e2e" in args.skip:
        notes.append("end to end skipped: --skip e2e")
    if "scale" in args.skip:
        notes.append("scale skipped: --skip scale")
    return notes


async def run(args: argparse.Namespace) -> int:
    start = time.monotonic()
    absent = await missing(args.database_url, args.redis_url)
    for how in absent.values():
        print(f"MISSING: {how}", file=sys.stderr)
    if "postgres" in absent or "redis" in absent:
        return 2
    meta: dict[str, Any] = {
        "mode": args.mode,
        "command": " ".join(["python -m benchmarks", *args.argv]),
        "started_at": dt.datetime.now(dt.UTC).isoformat(timespec="seconds"),
        "machine": describe_machine(),
        "load_before": os.getloadavg()[0],
        "load_averages_before": list(os.getloadavg()),  # 1, 5 and 15 minutes, as `uptime`
        "notes": _notes(args, absent),
    }
    say(start, "preparing: database, Redis prefix, keys")
    async with run_environment(args.database_url, args.redis_url) as env:
        env = dataclasses.replace(
            env, user_key=await alternatives.create_user_key(env.database_url)
        )
        meta["versions"] = await versions(env, args.http)
        results = await _phases(args, env, start)
        say(start, "cleaning up")
    meta.update(duration_s=time.monotonic() - start, load_after=os.getloadavg()[0])
    meta["load_averages_after"] = list(os.getloadavg())
    meta["notes"] += [f"cut: {cut}" for cut in results.get("scale", {}).get("cuts", [])]
    results["meta"] = meta
    written = report.write_all(results, Path(args.out) if args.out else report.RESULTS_DIR)
    print(report.render(results))
    print("written: " + ", ".join(str(p) for p in written))
    return 0


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    modes = parser.add_mutually_exclusive_group()
    modes.add_argument("--quick", dest="mode", action="store_const", const="quick",
                       help="a first look, under 2 minutes")  # fmt: skip
    modes.add_argument("--smoke", dest="mode", action="store_const", const="smoke",
                       help="a few rounds: the harness runs, no figure means much")  # fmt: skip
    parser.add_argument("--database-url", default=POSTGRES_URL, help="a database is made on it")
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument(
        "--http", default="auto", choices=["auto", "h11", "httptools"], help="uvicorn's HTTP parser"
    )
    parser.add_argument("--skip", action="append", default=[], choices=["e2e", "scale"])
    parser.add_argument("--time-limit", type=float, default=None, help="seconds for the phases")
    parser.add_argument("--out", default=None, help="directory for the JSON and Markdown")
    parser.set_defaults(mode="full")
    args = parser.parse_args(argv)
    args.argv = argv
    return args


async def _main(args: argparse.Namespace) -> int:
    task = asyncio.current_task()
    assert task is not None
    # SIGTERM cancels the run like Ctrl-C does, so the cleanup in `finally` blocks runs.
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    # A last resort: the run stops by itself (cleanup included), even if a phase hangs.
    limit = (args.time_limit or MODES[args.mode].time_limit) + (120 if args.mode == "full" else 20)
    try:
        async with asyncio.timeout(limit):
            return await run(args)
    except TimeoutError:
        print(f"stopped after {limit:.0f} s: servers stopped, database dropped, no report")
        return 3


def main(argv: list[str] | None = None) -> int:
    args = parse_args(sys.argv[1:] if argv is None else argv)
    with asyncio.Runner(loop_factory=uvloop.new_event_loop) as runner:
        return runner.run(_main(args))
