"""Issue 16's scale phase: keys in the store (a Postgres hit at each size), entries in Redis (a
Redis hit with few and many), memory per cached key (local and Redis), and throughput with 1, 2
and 4 uvicorn workers. It runs last: the keys it adds would change what the other phases read.

Everything is bounded by the phase's deadline, and whatever does not fit is cut and said so (in
`cuts`, which the report prints): a store size whose seeding the rate so far says cannot end in
time, a Redis size, a memory size, a worker count.
"""

from __future__ import annotations

import contextlib
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any

from .e2e import LoadSettings
from .environment import BenchEnv
from .scale_lookups import Lookups
from .scale_memory import drop_filler, fill_redis, local_memory, redis_memory
from .scale_workers import run_workers, workers_estimate
from .seeding import seed

__all__ = ["PLANS", "ScalePlan", "run_scale"]


@dataclass(frozen=True)
class ScalePlan:
    store_sizes: tuple[int, ...]  # keys in the store, each size measured in turn
    redis_sizes: tuple[int, ...]  # entries under the run's Redis prefix
    memory_sizes: tuple[int, ...]  # keys cached, for memory per key
    workers: tuple[int, ...]
    # Keys looked up in turn at every size, spread through the table: the same number at each
    # size, so that only the table's size changes (and keyguard's last-used writer, which
    # writes each key used once per interval, writes as many rows at each).
    samples: int
    rounds: int
    batch_seconds: float
    lookup_seconds: float  # what measuring one size is allowed to take, at most


PLANS = {
    "smoke": ScalePlan((200, 1_000), (200, 1_000), (300,), (1, 2), 100, 2, 0.0005, 10),
    "quick": ScalePlan((1_000, 100_000), (1_000, 100_000), (10_000,), (1, 2, 4), 1_000, 10,
                       0.01, 8),
    "full": ScalePlan((1_000, 100_000, 1_000_000), (1_000, 1_000_000), (10_000, 100_000),
                      (1, 2, 4), 1_000, 40, 0.025, 40),
}  # fmt: skip
Say = Callable[[str], None]


def _spread(kept: list[tuple[int, list[str]]], n: int) -> list[str]:
    """About `n` of the values kept, each seeding contributing its share of the rows, evenly
    picked from what it kept (which was spread evenly over its rows)."""
    total = sum(rows for rows, _ in kept)
    picked: list[str] = []
    for rows, values in kept:
        share = max(1, round(n * rows / total))
        picked += values[:: max(1, len(values) // share)][:share]
    return picked


@dataclass
class _Run:
    env: BenchEnv
    plan: ScalePlan
    lookups: Lookups
    say: Say
    cuts: list[str]

    def lookup_deadline(self) -> float:
        return time.monotonic() + self.plan.lookup_seconds

    async def store_sizes(self, deadline: float) -> dict[str, Any]:
        """Seed up to each size in turn and measure there; the local memory once enough keys
        are in."""
        sizes: dict[str, Any] = {}
        kept: list[tuple[int, list[str]]] = []  # (rows seeded, values kept) per seeding
        seeded = 0
        for size in self.plan.store_sizes:
            keep = self.plan.samples
            until = deadline - self.plan.lookup_seconds
            done = await seed(self.lookups.conn, self.lookups.hasher, size - seeded, keep=keep,
                              deadline=until, progress=self.say)  # fmt: skip
            seeded += done.rows
            kept.append((done.rows, done.samples))
            if done.cut:
                self.cuts.append(f"store size {size:,}: {done.cut}; not measured")
                break
            keys = _spread(kept, self.plan.samples)
            measured = await self.lookups.measure(keys, redis=False, **self._timing())
            table = await self.lookups.table_sizes()
            sizes[str(size)] = {**measured, **table, "keys": seeded, "seed_s": done.seconds}
            self.say(f"store {size:,} keys: keyguard / bare fetch {measured['ratio']:.2f}x")
        return {"sizes": sizes, "samples": _spread(kept, self.plan.samples), "seeded": seeded}

    def _timing(self) -> dict[str, Any]:
        plan = self.plan
        return {"rounds": plan.rounds, "batch_seconds": plan.batch_seconds,
                "deadline": self.lookup_deadline()}  # fmt: skip

    async def memory(self, seeded: int, deadline: float) -> dict[str, Any]:
        local, shared = {}, {}
        guard = self.lookups.redis_app.guard
        for n in self.plan.memory_sizes:
            if n > seeded or time.monotonic() + n / 5_000 > deadline:
                self.cuts.append(f"memory for {n:,} keys cut: {seeded:,} keys seeded, or no time")
                continue
            local[str(n)] = await local_memory(guard, self.lookups.conn, n)
            shared[str(n)] = await redis_memory(guard, self.lookups.conn, n)
            self.say(f"memory, {n:,} keys: local {local[str(n)]['bytes_per_key']:.0f} B/key")
        return {"local": local, "redis": shared}

    async def redis_sizes(self, samples: list[str], deadline: float) -> dict[str, Any]:
        """A Redis hit over the sample keys with the prefix holding each size of entries (the
        samples' own, then filler copies of one of them); the filler is removed after."""
        sizes: dict[str, Any] = {}
        keys = samples[: min(self.plan.samples, self.plan.redis_sizes[0])]
        client = self.lookups.redis
        filler: list[str] = []
        try:
            for size in self.plan.redis_sizes:
                more = max(0, size - len(keys) - len(filler))
                if time.monotonic() + more / 50_000 + self.plan.lookup_seconds > deadline:
                    self.cuts.append(f"Redis with {size:,} entries cut: no time to fill it")
                    break
                if not filler:
                    await self.lookups.warm(keys)
                like = await client.get(self.lookups.entry_name(keys[0]))
                assert isinstance(like, bytes), "the sample keys' entries are in Redis"
                filler += await fill_redis(client, self.env, more, like)
                measured = await self.lookups.measure(keys, redis=True, **self._timing())
                sizes[str(size)] = {**measured, "entries": len(keys) + len(filler),
                                    "dbsize": await client.dbsize()}  # fmt: skip
                self.say(f"Redis {size:,} entries: keyguard / bare GET {measured['ratio']:.2f}x")
        finally:
            await drop_filler(client, filler)
        return sizes


async def run_scale(
    env: BenchEnv, mode: str, load: LoadSettings | None, *, deadline: float, say: Say
) -> dict[str, Any]:
    """The whole phase; `load` None: no worker runs (no wrk, or --skip e2e), said in cuts."""
    plan = PLANS[mode]
    cuts: list[str] = []
    workers_time = sum(workers_estimate(load, n) for n in plan.workers) if load else 0.0
    redis_time = 2 * plan.lookup_seconds + plan.redis_sizes[-1] / 50_000
    async with contextlib.AsyncExitStack() as stack:
        lookups = Lookups(env, stack)
        await lookups.start()
        run = _Run(env, plan, lookups, say, cuts)
        store = await run.store_sizes(deadline - workers_time - redis_time)
        memory = await run.memory(store["seeded"], deadline - workers_time - redis_time)
        redis = await run.redis_sizes(store["samples"], deadline - workers_time)
    workers: dict[str, Any] = {}
    if load is None:
        cuts.append("workers: not run (no wrk, or --skip e2e)")
    else:
        workers = await run_workers(env, load, plan.workers, deadline=deadline, cuts=cuts)
    settings = {"plan": plan.__dict__, "loop": "uvloop"}
    return {"settings": settings, "store": store["sizes"], "redis": redis, "memory": memory,
            "workers": workers, "cuts": cuts}  # fmt: skip
