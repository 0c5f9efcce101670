"""Issue 16: throughput and p99 with 1, 2 and 4 uvicorn workers, the bare app beside keyguard
as deployed (Postgres + Redis, default 1 s local cache: local-cache hits), loaded by wrk as the
end-to-end phase loads one worker.

At each worker count the two servers run side by side and their load runs are interleaved; then
both are stopped before the next count starts. Besides req/s and latency each run records what
explains them: the server's CPU time and context switches per request (its whole process
group), wrk's own CPU, how busy the machine's cores were, and the store transactions the
keyguard server ran. Each count also measures both servers at rest (no load): what keyguard's
per-worker background work (change-log polls, last-used writes) costs by itself.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

import asyncpg

from .e2e import LoadSettings, Server, load, machine_ticks, summary
from .environment import BenchEnv

__all__ = ["APPS", "run_workers", "workers_estimate"]

APPS = ("bare.starlette", "keyguard")
REST_SECONDS = 3.0
_XACTS = (
    "SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database()"
)


def workers_estimate(settings: LoadSettings, count: int) -> float:
    """Seconds one worker count takes, start-up, warm-up and rest included (measured: 57 s
    for 1, 2 and 4 workers in the quick mode, which this puts at 74; 215 s in the full, 224)."""
    return 5 + count * 2 + REST_SECONDS + len(APPS) * (2 + settings.rounds * settings.seconds)


async def _xacts(conn: asyncpg.Connection) -> int:
    await conn.execute("SELECT pg_stat_clear_snapshot()")
    return int(await conn.fetchval(_XACTS))


async def _at_rest(servers: list[Server], conn: asyncpg.Connection) -> dict[str, Any]:
    """Both servers idle for REST_SECONDS: CPU each used (in cores), machine busy, store
    transactions per second (only keyguard's server talks to this database)."""
    before = [server.usage()[0] for server in servers]
    busy, total = machine_ticks()
    xacts = await _xacts(conn)
    started = time.monotonic()
    await asyncio.sleep(REST_SECONDS)
    elapsed = time.monotonic() - started
    busy_after, total_after = machine_ticks()
    cores = {s.name: (s.usage()[0] - b) / elapsed for s, b in zip(servers, before, strict=True)}
    return {
        "cores": cores,
        "machine_busy": (busy_after - busy) / max(1, total_after - total),
        "store_xacts_per_s": (await _xacts(conn) - xacts - 1) / elapsed,
    }


async def _one_count(
    env: BenchEnv, settings: LoadSettings, count: int, conn: asyncpg.Connection
) -> dict[str, Any]:
    servers = [Server(name, env, settings.http, workers=count) for name in APPS]
    try:
        for server in servers:
            await server.start()
        for server in servers:  # untimed: every worker's pools filled, caches warm
            await load(server, settings, 2 if count > 1 else 1)
        rest = await _at_rest(servers, conn)
        runs: dict[str, list[dict[str, float]]] = {name: [] for name in APPS}
        for _ in range(settings.rounds):
            for server in servers:
                xacts = await _xacts(conn)
                run = await load(server, settings, settings.seconds)
                runs[server.name].append({**run, "store_xacts": await _xacts(conn) - xacts - 1})
    finally:
        await asyncio.gather(*(server.stop() for server in servers), return_exceptions=True)
    done = {name: summary(r) for name, r in runs.items()}
    kg = runs["keyguard"]
    done["keyguard"]["store_xacts_per_req"] = sum(r["store_xacts"] for r in kg) / max(
        1, sum(r["requests"] for r in kg)
    )
    return {
        **done,
        "at_rest": rest,
        "ratio": done["keyguard"]["rps"] / done["bare.starlette"]["rps"],
    }


async def run_workers(
    env: BenchEnv, settings: LoadSettings, counts: tuple[int, ...], *, deadline: float,
    cuts: list[str],
) -> dict[str, Any]:  # fmt: skip
    """Each worker count in turn; a count that would end past `deadline` is cut (said in
    `cuts`), and so are the ones after it."""
    measured: dict[str, Any] = {}
    conn = await asyncpg.connect(env.database_url, timeout=5)
    try:
        for count in counts:
            if time.monotonic() + workers_estimate(settings, count) > deadline:
                cuts.append(f"workers: {count} and more cut, the time budget ran out")
                break
            measured[str(count)] = await _one_count(env, settings, count, conn)
    finally:
        await conn.close()
    return measured
