"""The capacity model of docs/scaling.md as a calculator: `python -m benchmarks.capacity`.

Every figure is one of docs/scaling.md's formulas over a deployment's numbers (hosts, workers,
keys, requests per second), keyguard's settings (cache lifetimes, intervals, pool sizes) and the
costs `python -m benchmarks` measured (CPU per request, bytes per cached key). It reads nothing
and connects to nothing: give it your numbers and it says what each server sees and which limit
comes first.

    python -m benchmarks.capacity --hosts 4 --workers 2 --keys 100000 --rps 10000
    python -m benchmarks.capacity --hit-rate 0.9 --markdown
"""

from __future__ import annotations

import argparse
import math
import re
import sys
from dataclasses import dataclass, fields
from pathlib import Path
from typing import Any

__all__ = ["Costs", "Deployment", "Knobs", "Plan", "plan"]


@dataclass(frozen=True)
class Deployment:
    hosts: int = 4
    workers: int = 2  # processes per host, each with a guard of its own
    cores: int = 2  # per host
    keys: int = 100_000  # keys in the store that clients use
    rps: float = 10_000.0  # checked requests per second, over every host
    # The share of requests the process's own cache answers. None: the worst case, traffic
    # spread evenly over every key (real traffic is skewed, and hits more: read yours off
    # keyguard_lookups_total, local / all tiers).
    hit_rate: float | None = None
    unknown_rps: float = 0.0  # well-formed keys the store does not know (typos, old keys)
    limited_share: float = 0.0  # share of requests by keys with a rate limit or quota
    changes_per_s: float = 0.0  # mints, revokes, rolls... (each one notice, one log row)
    pg_max_connections: int = 100  # PostgreSQL's default

    def __post_init__(self) -> None:
        for name in ("hosts", "workers", "cores", "keys", "pg_max_connections"):
            if getattr(self, name) < 1:
                raise ValueError(f"--{name.replace('_', '-')} must be 1 or more")
        for name in ("rps", "unknown_rps", "changes_per_s"):
            if not 0 <= getattr(self, name) < math.inf:
                raise ValueError(f"--{name.replace('_', '-')} must be 0 or more")
        for name in ("hit_rate", "limited_share"):
            value = getattr(self, name)
            if value is not None and not 0 <= value <= 1:
                raise ValueError(f"--{name.replace('_', '-')} must be from 0 to 1")


@dataclass(frozen=True)
class Knobs:
    """keyguard's settings that the figures depend on, at their defaults."""

    local_cache_ttl: float = 1.0
    local_cache_size: int = 10_000
    redis_cache_ttl: float = 60.0
    change_poll_interval: float = 0.25
    last_used_interval: float = 5.0
    store_pool_size: int = 10
    redis_pool_size: int = 50
    change_notifications: bool = True


@dataclass(frozen=True)
class Costs:
    """Measured by `python -m benchmarks` (benchmarks/README.md, "Scale"), 2-vCPU VM."""

    local_hit_us: float = 165.0  # server CPU of one HTTP request through uvicorn, a local hit
    redis_extra_us: float = 162.0  # what a Redis hit adds (181 us in-process, a local hit 19)
    # What a store hit adds: the lookup (311 us in-process, less a local hit), and around it
    # the failed-attempt limiter's two scripts and the fill's SET NX (~130 us of redis-py each).
    store_extra_us: float = 680.0
    redis_entry_bytes: int = 607  # Redis used_memory per entry, 100k entries
    local_entry_bytes: int = 1_144  # process memory per locally cached key
    redis_ops_per_core: float = 100_000.0  # redis-benchmark GET: 128k/s, client on the same VM
    store_lookups_per_core: float = 20_000.0  # pgbench -S: 51k/s on 2 vCPU, client included


@dataclass(frozen=True)
class Plan:
    processes: int
    hit_rate: float
    redis_gets: float
    redis_writes: float
    redis_ops: float
    redis_entries: float
    redis_bytes: float
    local_bytes_per_process: float
    store_lookups: float
    change_log_reads: float
    last_used_writes: float
    store_queries: float
    pg_connections_max: int
    redis_connections_max: int
    app_cores: float
    limits: dict[str, float]  # share of each limit used: 1.0 is full

    @property
    def first_limit(self) -> str:
        return max(self.limits, key=self.limits.__getitem__)


def uniform_hit_rate(d: Deployment, k: Knobs, processes: int) -> float:
    """Each process holds a key for `local_cache_ttl` after a miss: with requests for a key
    arriving at rate `lam` in a process, one in `1 + lam * ttl` misses."""
    lam = d.rps / (processes * d.keys)
    return lam * k.local_cache_ttl / (1 + lam * k.local_cache_ttl)


def plan(d: Deployment, k: Knobs = Knobs(), c: Costs = Costs()) -> Plan:
    processes = d.hosts * d.workers
    hit = uniform_hit_rate(d, k, processes) if d.hit_rate is None else d.hit_rate
    gets = (1 - hit) * d.rps  # every local miss asks Redis first
    per_key = gets / d.keys
    # An entry lives `redis_cache_ttl` from its fill; the next GET after it refills from the
    # store: one lookup per key per `1/per_key + ttl` seconds.
    refills = d.keys * per_key / (1 + per_key * k.redis_cache_ttl)
    lookups = refills + d.unknown_rps + d.changes_per_s
    entries = d.keys * per_key * k.redis_cache_ttl / (1 + per_key * k.redis_cache_ttl)
    # Around each store lookup: the failed-attempt limiter's acquire and release (an unknown
    # key's slot is kept, not released), the fill.
    writes = 3 * lookups - d.unknown_rps + d.limited_share * d.rps + d.changes_per_s
    log_reads = processes / k.change_poll_interval + d.changes_per_s * processes
    # Last-used writes, and the LISTEN connection's keep-alive every 5 s.
    last_used = processes / k.last_used_interval + processes * k.change_notifications / 5
    store_queries = lookups + log_reads + last_used
    cores = d.rps * c.local_hit_us / 1e6 + gets * c.redis_extra_us / 1e6
    cores += lookups * c.store_extra_us / 1e6
    pg_max = processes * (k.store_pool_size + int(k.change_notifications))
    redis_ops = gets + writes
    return Plan(
        processes=processes,
        hit_rate=hit,
        redis_gets=gets,
        redis_writes=writes,
        redis_ops=redis_ops,
        redis_entries=entries,
        redis_bytes=entries * c.redis_entry_bytes,
        local_bytes_per_process=min(d.keys, k.local_cache_size) * c.local_entry_bytes,
        store_lookups=lookups,
        change_log_reads=log_reads,
        last_used_writes=last_used,
        store_queries=store_queries,
        pg_connections_max=pg_max,
        redis_connections_max=processes * (2 * k.redis_pool_size + 1),
        app_cores=cores,
        limits={
            "app CPU": cores / (d.hosts * d.cores),
            "PostgreSQL connections": pg_max / d.pg_max_connections,
            "PostgreSQL CPU": store_queries / c.store_lookups_per_core,
            "Redis CPU": redis_ops / c.redis_ops_per_core,
        },
    )


def _figure(value: float) -> str:
    if value >= 100:
        return f"{value:,.0f}"
    return f"{value:.3g}"


def rows(p: Plan) -> list[tuple[str, str]]:
    return [
        ("processes (hosts x workers)", f"{p.processes}"),
        ("local hit rate", f"{p.hit_rate:.1%}"),
        ("Redis GETs /s", _figure(p.redis_gets)),
        ("Redis writes /s (fills, limits, changes)", _figure(p.redis_writes)),
        ("Redis entries", _figure(p.redis_entries)),
        ("Redis memory", f"{p.redis_bytes / 2**20:,.0f} MiB"),
        ("memory per process (local cache)", f"{p.local_bytes_per_process / 2**20:,.1f} MiB"),
        ("store lookups /s (refills, unknown keys)", _figure(p.store_lookups)),
        ("change-log reads /s", _figure(p.change_log_reads)),
        ("last-used writes and keep-alives /s", _figure(p.last_used_writes)),
        ("store queries /s, all", _figure(p.store_queries)),
        ("PostgreSQL connections, at most", f"{p.pg_connections_max}"),
        ("Redis connections, at most", f"{p.redis_connections_max}"),
        ("app CPU (cores)", f"{p.app_cores:.2f}"),
        *((f"used of {name}", f"{share:.0%}") for name, share in p.limits.items()),
        ("first limit", p.first_limit),
    ]


def markdown(p: Plan) -> str:
    lines = ["| figure | value |", "|---|---|"]
    lines += [f"| {name} | {value} |" for name, value in rows(p)]
    return "\n".join(lines)


_BLOCK = re.compile(
    r"(<!-- capacity: (?P<args>[^>]*) -->\n)(?P<table>.*?)(\n<!-- /capacity -->)", re.S
)


def filled(text: str) -> str:
    """`text` with the table of every `<!-- capacity: ARGS -->` block made from ARGS."""

    def table(match: re.Match[str]) -> str:
        args, _ = _arguments(match["args"].split())
        return match[1] + markdown(plan(*_made(args))) + match[4]

    return _BLOCK.sub(table, text)


def _arguments(argv: list[str]) -> tuple[argparse.Namespace, list[type]]:
    parser = argparse.ArgumentParser(prog="python -m benchmarks.capacity", description=__doc__)
    kinds: list[type] = [Deployment, Knobs, Costs]
    for kind in kinds:
        group = parser.add_argument_group(kind.__name__)
        for f in fields(kind):
            flag = "--" + f.name.replace("_", "-")
            if f.type in ("bool",):
                group.add_argument(flag, type=lambda s: s.lower() in ("1", "true", "yes", "on"))
            else:
                convert = int if f.type == "int" else float
                group.add_argument(flag, type=convert, default=None)
    parser.add_argument("--markdown", action="store_true", help="a table for docs")
    parser.add_argument("--fill", metavar="DOC", help="rewrite DOC's capacity tables")
    parser.add_argument("--check", metavar="DOC", help="exit 1 if DOC's tables are stale")
    return parser.parse_args(argv), kinds


def _made(args: argparse.Namespace) -> list[Any]:
    made = []
    for kind in (Deployment, Knobs, Costs):
        given = {f.name: getattr(args, f.name) for f in fields(kind)}
        made.append(kind(**{name: v for name, v in given.items() if v is not None}))
    return made


def _doc(fill: str | None, check: str | None) -> int:
    path = Path(fill or check or "")
    text = path.read_text()
    if fill:
        path.write_text(filled(text))
        return 0
    if filled(text) != text:
        print(f"{path}: capacity tables are stale; run python -m benchmarks.capacity --fill {path}")
        return 1
    return 0


def main(argv: list[str] | None = None) -> int:
    args, _ = _arguments(sys.argv[1:] if argv is None else argv)
    if args.fill or args.check:
        return _doc(args.fill, args.check)
    try:
        result = plan(*_made(args))
    except ValueError as exc:
        print(f"python -m benchmarks.capacity: {exc}", file=sys.stderr)
        return 2
    if args.markdown:
        print(markdown(result))
    else:
        width = max(len(name) for name, _ in rows(result))
        for name, value in rows(result):
            print(f"{name:<{width}}  {value}")
    return 0 if all(math.isfinite(v) for v in result.limits.values()) else 1


if __name__ == "__main__":
    raise SystemExit(main())
