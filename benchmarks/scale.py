"""Scale: cost against the number of keys in the store, against the local cache's hit rate, and
throughput and revocation delay with 1, 2 and 4 worker processes sharing Redis and Postgres."""

from __future__ import annotations

import asyncio
import contextlib
import json
import time
from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

from keyguard import APIKeyMiddleware, KeyGuard, Settings

from . import seed
from .apps import LONG_TTL, PATH, bare_starlette, keyguard_app
from .cases import LABELS, bearer
from .e2e import LoadSettings, Target, run_rounds, servers
from .environment import BenchEnv
from .inprocess import (
    Case,
    CaseResult,
    Lifespan,
    Span,
    app_case,
    expect_lookups,
    http_scope,
    noop_receive,
    noop_send,
    run_interleaved,
    since,
    start_span,
)
from .loadgen import Connection

__all__ = ["hit_rate_runs", "revocation_delay", "store_size_runs", "worker_runs"]


async def store_size_runs(
    env: BenchEnv, sizes: Sequence[int], *, rounds: int, batch_seconds: float, deadline: float
) -> list[dict[str, Any]]:
    """A store hit (Postgres; Redis and local cache off) as the table grows, beside the bare app
    and a local-cache hit measured in the same rounds."""
    assert env.database_url is not None
    rows = []
    async with contextlib.AsyncExitStack() as stack:
        store_app = keyguard_app(env, redis=False, local_ttl=0)
        hit_app = keyguard_app(env, redis=False, local_ttl=LONG_TTL)
        for app in (store_app, hit_app):
            await stack.enter_async_context(Lifespan(app))
        cases = [
            app_case("bare.starlette", LABELS["bare.starlette"], bare_starlette(), [], 200),
            expect_lookups(
                app_case("keyguard.store_hit.postgres", "", store_app, bearer(env.key_pg), 200),
                store_app, store=1, shared=0,
            ),
            expect_lookups(
                app_case("keyguard.local_hit", "", hit_app, bearer(env.key_pg), 200),
                hit_app, store=0, shared=0,
            ),
        ]  # fmt: skip
        for size in sizes:
            if time.monotonic() > deadline:
                break
            held = await seed.fill_keys(env.database_url, size, env.pepper)
            results = await run_interleaved(
                cases, rounds=rounds, batch_seconds=batch_seconds, deadline=deadline
            )
            rows.append({"keys": held, **_medians(results)})
    return rows


def _medians(results: dict[str, CaseResult]) -> dict[str, Any]:
    base = results["bare.starlette"].median_s
    out: dict[str, Any] = {}
    for name, r in results.items():
        out[name] = {
            "median_us": r.median_s * 1e6,
            "p99_us": r.p99_s * 1e6,
            "cpu_us": r.cpu_median_s * 1e6,
            "ratio": r.median_s / base,
            "verified": r.verified,
        }
    return out


def _hit_rate_case(
    app: APIKeyMiddleware, hot: str, cold: Sequence[str], rate: float, tally: dict[str, int]
) -> Case:
    """Requests for one warm key, with a share `1 - rate` for keys just dropped from the local
    cache (so they go to Redis, where they are): the steady state of a busy process."""
    verifier = app.verifier
    cold_digests = [verifier.hasher.digest(v) for v in cold]
    hot_scope, cold_scopes = http_scope(bearer(hot)), [http_scope(bearer(v)) for v in cold]

    async def batch(n: int) -> Span:
        misses = min(len(cold), round(n * (1 - rate)))
        step = n / misses if misses else 0
        picks = {int(i * step): i for i in range(misses)}
        scopes = [dict(cold_scopes[picks[i]] if i in picks else hot_scope) for i in range(n)]
        for digest in cold_digests:  # untimed: make the cold keys misses again
            verifier.forget(digest)
        before = verifier.shared.lookups + verifier.store_lookups
        start = start_span()
        for scope in scopes:
            await app(scope, noop_receive, noop_send)
        elapsed = since(start)
        tally["requests"] += n
        tally["misses"] += verifier.shared.lookups + verifier.store_lookups - before
        return elapsed

    async def check() -> None:
        return None

    return Case(
        f"hit_rate.{rate:g}", f"keyguard at a {rate:.0%} local-cache hit rate", batch, check
    )


async def hit_rate_runs(
    env: BenchEnv,
    rates: Sequence[float],
    cold: Sequence[str],
    *,
    rounds: int,
    batch_seconds: float,
    deadline: float,
) -> list[dict[str, Any]]:
    async with Lifespan(app := keyguard_app(env, redis=True, local_ttl=LONG_TTL)):
        for value in cold:  # each cold key once through the store, so Redis holds it
            await app(http_scope(bearer(value)), noop_receive, noop_send)
        tallies = {rate: {"requests": 0, "misses": 0} for rate in rates}
        cases = [app_case("bare.starlette", LABELS["bare.starlette"], bare_starlette(), [], 200)]
        cases += [_hit_rate_case(app, env.key_pg, cold, r, tallies[r]) for r in rates]
        results = await run_interleaved(
            cases, rounds=rounds, batch_seconds=batch_seconds, deadline=deadline
        )
    base = results["bare.starlette"].median_s
    return [
        {
            "rate": rate,
            "measured_rate": 1 - tallies[rate]["misses"] / max(1, tallies[rate]["requests"]),
            "median_us": results[f"hit_rate.{rate:g}"].median_s * 1e6,
            "p99_us": results[f"hit_rate.{rate:g}"].p99_s * 1e6,
            "ratio": results[f"hit_rate.{rate:g}"].median_s / base,
        }
        for rate in rates
    ]


async def worker_runs(
    env: BenchEnv, counts: Sequence[int], settings: LoadSettings, *, deadline: float
) -> list[dict[str, Any]]:
    """Bare app and keyguard (Postgres + Redis, defaults) under N uvicorn workers, interleaved;
    then a key is revoked from this process and the workers are watched until all refuse it."""
    rows = []
    for workers in counts:
        if time.monotonic() > deadline:
            break
        key_id, value = await seed.mint_key(env.database_url or "", env.pepper, name=f"w{workers}")
        headers = (("Authorization", f"Bearer {value}"),)
        targets = [
            Target("bare.starlette", "bare Starlette", "bare.starlette", headers, workers),
            Target("keyguard", "keyguard", "keyguard", headers, workers),
        ]
        async with servers(targets, env, settings.http) as running:
            loads = await run_rounds(running, settings, deadline=deadline)
            revocation = await revocation_delay(env, running[1].port, key_id, value, workers)
        rows.append(
            {
                "workers": workers,
                "bare_rps": loads["bare.starlette"].rps,
                "keyguard_rps": loads["keyguard"].rps,
                "ratio": loads["keyguard"].rps / loads["bare.starlette"].rps,
                "keyguard_p99_ms": loads["keyguard"].p99_s * 1e3,
                "revocation": revocation,
            }
        )
    return rows


@dataclass
class _Probe:
    conn: Connection
    pid: int | None = None
    last_ok: float = 0.0  # monotonic time of its last 200
    refused: bool = False  # got a 401 after its last 200


class _Watch:
    """Probe connections, and an event set once every one of them has been refused."""

    def __init__(self, port: int, value: str, count: int) -> None:
        headers = [("Authorization", f"Bearer {value}")]
        self.probes = [_Probe(Connection("127.0.0.1", port, PATH, headers)) for _ in range(count)]
        self.all_refused = asyncio.Event()

    async def connect(self) -> set[int]:
        """Open the connections one by one, 20 ms apart: opened at once, one worker tends to
        accept them all. Returns the pids of the workers that answered."""
        for probe in self.probes:
            await self._ask(probe)
            await asyncio.sleep(0.02)
        return {p.pid for p in self.probes if p.pid is not None}

    async def _ask(self, probe: _Probe) -> None:
        status, body = await asyncio.wait_for(probe.conn.get(), 5)
        if status == 200:
            probe.pid, probe.last_ok, probe.refused = (
                json.loads(body)["pid"],
                time.monotonic(),
                False,
            )
        elif status == 401:
            probe.refused = True
            if all(p.refused for p in self.probes):
                self.all_refused.set()

    async def run(self, probe: _Probe, until: float) -> None:
        while time.monotonic() < until:
            await self._ask(probe)

    async def close(self) -> None:
        for probe in self.probes:
            await probe.conn.close()


async def revocation_delay(
    env: BenchEnv, port: int, key_id: str, value: str, workers: int, bound: float = 5.0
) -> dict[str, Any]:
    """Revoke a key that every probe connection is using, through a KeyGuard in this process
    sharing the servers' Postgres and Redis; the delay is from `revoke` returning to the last
    200 any worker served for it."""
    settings = Settings(
        database_url=env.database_url or "",
        redis_url=env.redis_url,
        redis_prefix=env.redis_prefix,
        pepper=env.pepper,
    )
    watch = _Watch(port, value, 8 * workers)  # several connections per worker, to reach each
    async with KeyGuard(settings) as guard:
        pids = await watch.connect()
        until = time.monotonic() + bound + 3
        loops = [asyncio.ensure_future(watch.run(p, until)) for p in watch.probes]
        try:
            await asyncio.sleep(0.2)  # every connection busy asking
            await guard.manager.revoke(key_id, account=seed.ACCOUNT)
            revoked = time.monotonic()
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(watch.all_refused.wait(), bound)
            await asyncio.sleep(0.2)  # a late 200 would show up here
        finally:
            for loop in loops:
                loop.cancel()
            await asyncio.gather(*loops, return_exceptions=True)
            await watch.close()
    probes = watch.probes
    last_ok = max(p.last_ok for p in probes)
    return {
        "delay_ms": max(0.0, last_ok - revoked) * 1e3,
        "workers": workers,
        "workers_seen": len(pids),
        "all_refused": all(p.refused for p in probes),
        "bound_s": bound,
    }
