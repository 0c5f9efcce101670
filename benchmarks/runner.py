"""The run: check what is available, make this run's database, Redis prefix and keys, run the
phases within the mode's time, write the report, and remove everything it made.

Phases, in order: in-process, end to end, scale (store size, hit rate, worker processes), and
for any in-process target missed, where the time goes. A phase whose time has run out is skipped and
says so; the whole run is also cut off at the mode's limit plus a margin, cleanup included.
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import dataclasses
import datetime as dt
import os
import secrets
import signal
import sys
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import uvloop

from keyguard import Access, KeyFormat

from . import alternatives as alt
from . import breakdown, report, scale, seed
from .cases import LABELS, build_suite
from .e2e import LoadSettings, Target, run_e2e
from .environment import (
    POSTGRES_URL,
    REDIS_URL,
    Availability,
    BenchEnv,
    bench_database,
    bench_redis_prefix,
    check_availability,
)
from .inprocess import run_interleaved
from .machine import describe_machine, versions
from .targets import evaluate

__all__ = ["FULL", "QUICK", "Mode", "main"]


@dataclass(frozen=True)
class Mode:
    name: str
    time_limit: float  # seconds for the phases; cleanup comes on top
    rounds: int  # in-process rounds
    batch_seconds: float  # in-process batch length
    slow_rounds: int  # in-process rounds for cases that take 0.1-0.5 s per request
    e2e: LoadSettings
    worker_rounds: int
    worker_seconds: float  # per load run with N workers
    sizes: tuple[int, ...]  # keys in the store
    size_rounds: int
    cold_keys: int  # distinct keys for the hit-rate runs
    breakdown_rounds: int
    rates: tuple[float, ...] = (1.0, 0.99, 0.9, 0.5, 0.0)  # local-cache hit rates
    workers: tuple[int, ...] = (1, 2, 4)


QUICK = Mode(
    "quick", time_limit=95, rounds=20, batch_seconds=0.01, slow_rounds=2,
    e2e=LoadSettings(seconds=2, warmup=0.3, rounds=2, connections=32, wrk=None, http="auto",
                     slow_seconds=2, slow_rounds=1),
    worker_rounds=1, worker_seconds=1, sizes=(1_000, 100_000), size_rounds=8, cold_keys=300,
    breakdown_rounds=15,
)  # fmt: skip
FULL = Mode(
    "full", time_limit=1500, rounds=200, batch_seconds=0.025, slow_rounds=12,
    e2e=LoadSettings(seconds=10, warmup=2, rounds=3, connections=32, wrk=None, http="auto",
                     slow_seconds=15, slow_rounds=2),
    worker_rounds=3, worker_seconds=10, sizes=(1_000, 100_000, 1_000_000), size_rounds=40,
    cold_keys=2000, breakdown_rounds=60,
)  # fmt: skip
# Where each phase must end, as a share of the time limit from the start: a phase that runs
# over eats into the next ones, which then do fewer rounds (never fewer than the first).
PHASE_ENDS = {"inprocess": 0.12, "e2e": 0.5, "sizes": 0.56, "rates": 0.6, "workers": 0.85}


class Clock:
    def __init__(self, limit: float) -> None:
        self.start = time.monotonic()
        self.end = self.start + limit

    def left(self) -> float:
        return self.end - time.monotonic()

    def phase_end(self, phase: str) -> float:
        return self.start + (self.end - self.start) * PHASE_ENDS[phase]

    def until(self, share: float) -> float:
        """A deadline `share` of the remaining time from now."""
        return time.monotonic() + max(0.0, self.left()) * share


def say(clock: Clock, message: str) -> None:
    print(f"[{time.monotonic() - clock.start:6.1f} s] {message}", file=sys.stderr, flush=True)


async def prepare(stack: contextlib.AsyncExitStack, avail: Availability) -> BenchEnv:
    """This run's SQLite file, Postgres database, Redis prefix and keys; all removed by `stack`."""
    tmp = stack.enter_context(tempfile.TemporaryDirectory(prefix="keyguard-bench-"))
    database = None
    if avail.postgres:
        database = await stack.enter_async_context(bench_database(avail.postgres))
    prefix = await stack.enter_async_context(bench_redis_prefix(avail.redis))
    env = BenchEnv(database, avail.redis, prefix, f"sqlite:///{tmp}/keys.db", secrets.token_hex(16))
    _, key_sqlite = await seed.mint_key(env.sqlite_url, env.pepper)
    env = dataclasses.replace(env, key_sqlite=key_sqlite)
    if database is None:
        return env
    _, key_pg = await seed.mint_key(database, env.pepper)
    user_key = KeyFormat().generate(Access.SECRET, "test")  # same shape, their own table
    await alt.create_user_table(database, user_key)
    keyshield_key = await alt.mint_keyshield_key(env) if alt.keyshield_problem() is None else ""
    return dataclasses.replace(env, key_pg=key_pg, user_key=user_key, keyshield_key=keyshield_key)


async def inprocess_phase(env: BenchEnv, mode: Mode, deadline: float) -> dict[str, Any]:
    async with contextlib.AsyncExitStack() as stack:
        suite = await build_suite(env, stack, slow_rounds=mode.slow_rounds)
        results = await run_interleaved(
            suite.cases, rounds=mode.rounds, batch_seconds=mode.batch_seconds, deadline=deadline
        )
    base = results["bare.starlette"].median_s
    cases = {
        name: {
            "name": name,
            "label": r.label,
            "median_us": r.median_s * 1e6,
            "p99_us": r.p99_s * 1e6,
            "cpu_us": r.cpu_median_s * 1e6,
            "ratio": r.median_s / base,
            "batch_size": r.batch_size,
            "rounds": r.rounds,
            "verified": r.verified,
        }
        for name, r in results.items()
    }
    settings = {"rounds": mode.rounds, "batch_seconds": mode.batch_seconds, "loop": "uvloop"}
    return {"settings": settings, "cases": cases, "skipped": suite.skipped}


def e2e_targets(env: BenchEnv, load: LoadSettings) -> tuple[list[Target], dict[str, str]]:
    key = env.key_pg or env.key_sqlite
    auth = (("Authorization", f"Bearer {key}"),)
    user = (("Authorization", f"Bearer {env.user_key}"),)
    targets = [
        Target("bare.starlette", LABELS["bare.starlette"], "bare.starlette", auth),
        Target("bare.fastapi", LABELS["bare.fastapi"], "bare.fastapi", auth),
    ]
    if not env.database_url:
        label = "keyguard (SQLite, default 1 s local cache)"
        targets.append(Target("keyguard", label, "keyguard.sqlite", auth))
        return targets, dict.fromkeys(["alternatives"], "need PostgreSQL")
    header = (("X-API-Key", env.user_key),)
    targets += [
        Target(
            "keyguard", "keyguard (Postgres + Redis, default 1 s local cache)", "keyguard", auth
        ),
        Target("alt.starlette_auth", LABELS["alt.starlette_auth"], "alt.starlette_auth", user),
        Target("alt.base_http", LABELS["alt.base_http"], "alt.base_http", user),
        Target("alt.fastapi_header", LABELS["alt.fastapi_header"], "alt.fastapi_header", header),
    ]
    if not env.keyshield_key:
        return targets, {"alt.keyshield": alt.keyshield_problem() or "no keyshield key"}
    shield = (("Authorization", f"Bearer {env.keyshield_key}"),)
    for name in ("alt.keyshield", "alt.keyshield_nodelay"):
        label = f"{LABELS[name]} [{load.slow_connections} connections]"
        targets.append(Target(name, label, name, shield, slow=True))
    return targets, {}


async def e2e_phase(env: BenchEnv, load: LoadSettings, deadline: float) -> dict[str, Any]:
    targets, skipped = e2e_targets(env, load)
    results, failed = await run_e2e(targets, env, load, deadline=deadline)
    base = results["bare.starlette"].rps if "bare.starlette" in results else float("nan")
    out = {
        name: {
            "name": name,
            "label": r.label,
            "rps": r.rps,
            "p50_ms": r.p50_s * 1e3,
            "p99_ms": r.p99_s * 1e3,
            "cpu_us": r.cpu_per_request_s * 1e6,
            "ratio": r.rps / base,
            "errors": r.errors,
            "bad_status": r.bad_status,
            "runs": [dataclasses.asdict(run) for run in r.runs],
        }
        for name, r in results.items()
    }
    settings = {
        "tool": "wrk -t1" if load.wrk else "python client",
        "connections": load.connections,
        "seconds": load.seconds,
        "rounds": load.rounds,
        "warmup_s": load.warmup,
        "workers": 1,
        "slow targets": f"{load.slow_connections} connections, {load.slow_seconds:g} s,"
        f" {load.slow_rounds} round(s)",
    }
    return {"settings": settings, "targets": out, "skipped": {**skipped, **failed}}


async def scale_phase(
    env: BenchEnv, mode: Mode, load: LoadSettings, clock: Clock
) -> dict[str, Any]:
    out: dict[str, Any] = {"skipped": {}}
    if not (env.database_url and env.redis_url):
        out["skipped"]["all"] = "scale runs need PostgreSQL and Redis"
        return out
    # The in-process scale runs first: they are short, and the worker runs take what is left.
    say(clock, f"scale: keys in the store {', '.join(f'{s:,}' for s in mode.sizes)}")
    out["store_size"] = await scale.store_size_runs(
        env,
        mode.sizes,
        rounds=mode.size_rounds,
        batch_seconds=mode.batch_seconds,
        deadline=clock.phase_end("sizes"),
    )
    say(clock, "scale: local-cache hit rates")
    cold = await seed.insert_real_keys(
        env.database_url, mode.cold_keys, env.pepper, start=5 * 10**8
    )
    out["hit_rate"] = await scale.hit_rate_runs(
        env,
        mode.rates,
        cold,
        rounds=mode.size_rounds,
        batch_seconds=mode.batch_seconds,
        deadline=clock.phase_end("rates"),
    )
    say(clock, f"scale: {', '.join(map(str, mode.workers))} worker processes")
    workers_load = dataclasses.replace(load, rounds=mode.worker_rounds, seconds=mode.worker_seconds)
    out["workers"] = await scale.worker_runs(
        env, mode.workers, workers_load, deadline=clock.phase_end("workers")
    )
    return out


# In-process targets whose misses get a breakdown: verdict key -> breakdown kind.
MISS_KINDS = {
    "local_hit": "local",
    "garbage": "garbage",
    "missing": "missing",
    "redis_hit": "redis",
    "store_hit": "store",
}


async def breakdown_phase(
    env: BenchEnv, results: dict[str, Any], mode: Mode, clock: Clock
) -> dict[str, Any]:
    missed = {
        MISS_KINDS[v.key] for v in evaluate(results) if v.key in MISS_KINDS and v.met is False
    }
    if not missed:
        return {}
    say(clock, f"where the time goes: {', '.join(sorted(missed))}")
    ladders = await breakdown.ladders(
        env, missed, rounds=mode.breakdown_rounds, deadline=clock.until(0.5)
    )
    seconds = 0.5 if mode.name == "quick" else 2.0
    profiles = await breakdown.profile_requests(env, missed, seconds=seconds)
    return {"ladders": ladders, "profiles": profiles}


def notes(avail: Availability, env: BenchEnv) -> list[str]:
    out = [
        "garbage is measured on its 401 path: the failure limit is raised, else one client's"
        " garbage becomes 429s after 20 requests (a path as cheap)",
        "fastapi-api-key on PyPI (1.2.0) is a renamed shim that depends on keyshield;"
        " keyshield is what runs",
        "keyshield: its README's FastAPI example, except `ensure_table` once at start-up"
        " instead of on every request",
    ]
    if avail.wrk is None:
        out.append("end to end used the Python client (no wrk): less precise")
    return out


async def run(args: argparse.Namespace) -> int:
    mode = QUICK if args.quick else FULL
    clock = Clock(args.time_limit or mode.time_limit)
    avail = await check_availability(args.database_url, args.redis_url)
    for line in avail.missing:
        print(f"MISSING: {line}", file=sys.stderr)
    load = dataclasses.replace(mode.e2e, wrk=avail.wrk, http=args.http)
    started = (dt.datetime.now(dt.UTC).isoformat(timespec="seconds"), os.getloadavg()[0])
    results: dict[str, Any] = {}
    async with contextlib.AsyncExitStack() as stack:
        say(clock, "preparing: database, Redis prefix, keys")
        env = await prepare(stack, avail)
        found = await versions(env, avail, args.http)
        say(clock, "in-process")
        results["inprocess"] = await inprocess_phase(env, mode, clock.phase_end("inprocess"))
        if "e2e" not in args.skip:
            say(clock, f"end to end ({'wrk' if avail.wrk else 'python client'})")
            results["e2e"] = await e2e_phase(env, load, clock.phase_end("e2e"))
        if "scale" not in args.skip:
            results["scale"] = await scale_phase(env, mode, load, clock)
        results["breakdown"] = await breakdown_phase(env, results, mode, clock)
        say(clock, "cleaning up")
    results["meta"] = {**_meta(args, mode, clock, avail, env, started), "versions": found}
    written = report.write_all(results, Path(args.out) if args.out else report.RESULTS_DIR)
    print(report.render(results))
    print("written: " + ", ".join(str(p) for p in written))
    return 0


def _meta(
    args: argparse.Namespace,
    mode: Mode,
    clock: Clock,
    avail: Availability,
    env: BenchEnv,
    started: tuple[str, float],
) -> dict[str, Any]:
    return {
        "mode": mode.name,
        "command": " ".join(["python -m benchmarks", *args.argv]),
        "started_at": started[0],
        "duration_s": time.monotonic() - clock.start,
        "machine": describe_machine(),
        "load_before": started[1],
        "load_after": os.getloadavg()[0],
        "missing": list(avail.missing),
        "notes": notes(avail, env),
    }


def parse_args(argv: list[str]) -> argparse.Namespace:
    parser = argparse.ArgumentParser(prog="python -m benchmarks", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="a first look, under 2 minutes")
    parser.add_argument(
        "--database-url",
        default=POSTGRES_URL,
        help="a Postgres server (a database is created on it)",
    )
    parser.add_argument("--redis-url", default=REDIS_URL)
    parser.add_argument(
        "--http", default="auto", choices=["auto", "h11", "httptools"], help="uvicorn's HTTP parser"
    )
    parser.add_argument("--skip", action="append", default=[], choices=["e2e", "scale"])
    parser.add_argument("--time-limit", type=float, default=None, help="seconds for the phases")
    parser.add_argument("--out", default=None, help="directory for the JSON, Markdown and PNG")
    args = parser.parse_args(argv)
    args.argv = argv
    return args


async def _main(args: argparse.Namespace) -> int:
    task = asyncio.current_task()
    assert task is not None
    asyncio.get_running_loop().add_signal_handler(signal.SIGTERM, task.cancel)
    mode = QUICK if args.quick else FULL
    # A last resort: the run stops by itself (cleanup included), even if a phase hangs.
    limit = (args.time_limit or mode.time_limit) + (20 if args.quick else 120)
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
