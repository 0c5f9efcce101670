"""Where the time goes when a target is missed: a ladder of cumulative steps (each measured in
the same interleaved rounds, so the differences are what each step adds) and a cProfile of the
request path (its shares are indicative: profiling slows small functions more than big ones)."""

from __future__ import annotations

import contextlib
import cProfile
import pstats
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any, Literal

from keyguard import APIKeyMiddleware
from keyguard.core import CredentialProblem, extract_key, new_id
from keyguard.web import Refusal

from .apps import keyguard_app
from .cases import bearer, garbage_of
from .environment import BenchEnv
from .inprocess import (
    Lifespan,
    async_case,
    http_scope,
    noop_receive,
    noop_send,
    run_interleaved,
)

__all__ = ["ladders", "profile_requests"]

Step = tuple[str, Callable[[], Awaitable[object]]]


async def _ladder(title: str, steps: list[Step], rounds: int, deadline: float) -> dict[str, Any]:
    """Each step's CPU time says what its code costs (wall time also waits on the server);
    medians over batches measured in the same interleaved rounds."""
    cases = [
        async_case(f"step{i}", label, call, lambda _: True) for i, (label, call) in enumerate(steps)
    ]
    results = await run_interleaved(cases, rounds=rounds, batch_seconds=0.01, deadline=deadline)
    rows, previous = [], 0.0
    for case in cases:
        result = results[case.name]
        cpu = result.cpu_median_s * 1e6
        rows.append(
            {
                "label": case.label,
                "cpu_us": cpu,
                "step_cpu_us": cpu - previous,
                "median_us": result.median_s * 1e6,
            }
        )
        previous = cpu
    return {"title": title, "steps": rows}


def _request(
    app: APIKeyMiddleware, headers: list[tuple[bytes, bytes]]
) -> Callable[[], Awaitable[None]]:
    scope = http_scope(headers)
    return lambda: app(dict(scope), noop_receive, noop_send)


async def _redis_ladder(env: BenchEnv, rounds: int, deadline: float) -> dict[str, Any]:
    app = keyguard_app(env, redis=True, local_ttl=0)
    async with Lifespan(app):
        guard, digest = app.guard, app.guard.hasher.digest(env.key_pg)
        cache = guard.shared_cache
        assert cache is not None
        await _request(app, bearer(env.key_pg))()  # fills Redis
        client = cache.client  # type: ignore[attr-defined]
        entry = cache.entry_key(digest)  # type: ignore[attr-defined]
        steps: list[Step] = [
            ("bare redis-py GET", lambda: client.get(entry)),
            ("+ check and decode: shared_cache.get(digest)", lambda: cache.get(digest)),
            (
                "+ timeout, fill task, shield: verifier.fill(digest)",
                lambda: app.verifier.fill(digest),
            ),
            ("+ middleware and bare app: the whole request", _request(app, bearer(env.key_pg))),
        ]
        return await _ladder("Redis hit, step by step", steps, rounds, deadline)


async def _store_ladder(env: BenchEnv, rounds: int, deadline: float) -> dict[str, Any]:
    import asyncpg

    from keyguard.adapters._sql_shapes import KEY_COLUMNS

    app = keyguard_app(env, redis=False, local_ttl=0)
    async with Lifespan(app), contextlib.AsyncExitStack() as stack:
        digest = app.guard.hasher.digest(env.key_pg)
        conn = await asyncpg.connect(env.database_url, timeout=5)
        stack.push_async_callback(conn.close)
        stmt = await conn.prepare(f"SELECT {KEY_COLUMNS} FROM keyguard_keys WHERE digest = $1")
        steps: list[Step] = [
            ("bare asyncpg prepared fetchrow", lambda: stmt.fetchrow(digest)),
            (
                "+ pool acquire, row to KeyRecord: store.find_by_digest",
                lambda: app.guard.store.find_by_digest(digest),
            ),
            ("+ fill task, shield: verifier.fill(digest)", lambda: app.verifier.fill(digest)),
            ("+ middleware and bare app: the whole request", _request(app, bearer(env.key_pg))),
        ]
        return await _ladder("store hit (Postgres), step by step", steps, rounds, deadline)


def _rejection_steps(app: APIKeyMiddleware, headers: list[tuple[bytes, bytes]]) -> list[Step]:
    """The middleware's rejection, rebuilt step by step from keyguard's own parts."""
    scope = http_scope(headers)
    verifier, limiter, refusals = app.verifier, app.limiter, app.refusals

    def decide() -> object:
        token = extract_key(scope["headers"])
        return verifier.check_cached(token) if isinstance(token, str) else token

    async def counted() -> object:
        decision = decide()
        if decision is not CredentialProblem.MISSING:  # a missing key is not a failure
            await limiter.record_failure("127.0.0.1")
        return decision

    async def with_id() -> str:
        await counted()
        return new_id("req_")

    refusal = Refusal.MISSING if decide() is CredentialProblem.MISSING else Refusal.INVALID

    async def sent() -> None:
        await refusals.make(refusal, await with_id())(dict(scope), noop_receive, noop_send)

    async def decided() -> object:
        return decide()

    return [
        ("decision: extract_key + verifier.check_cached", decided),
        ("+ failure counted: limiter.record_failure", counted),
        ("+ request id: new_id('req_')", with_id),
        ("+ envelope rendered and 401 sent: Rejection", sent),
        ("+ the rest of the middleware: the whole request", _request(app, headers)),
    ]


async def _rejection_ladders(
    env: BenchEnv, kinds: set[str], rounds: int, deadline: float
) -> list[dict[str, Any]]:
    key = env.key_pg or env.key_sqlite
    store: Literal["postgres", "sqlite"] = "postgres" if env.key_pg else "sqlite"
    app = keyguard_app(env, store=store, redis=False, unlimited_failures=True)
    out = []
    async with Lifespan(app):
        for kind, headers in (("garbage", bearer(garbage_of(key))), ("missing", [])):
            if kind in kinds:
                title = f"rejection of a {kind} key, step by step"
                out.append(await _ladder(title, _rejection_steps(app, headers), rounds, deadline))
    return out


async def ladders(
    env: BenchEnv, missed: set[str], *, rounds: int, deadline: float
) -> list[dict[str, Any]]:
    out = await _rejection_ladders(env, missed, rounds, deadline)
    if "redis" in missed and env.redis_url and env.key_pg:
        out.append(await _redis_ladder(env, rounds, deadline))
    if "store" in missed and env.database_url and env.key_pg:
        out.append(await _store_ladder(env, rounds, deadline))
    return out


async def profile_requests(
    env: BenchEnv, kinds: set[str], *, seconds: float = 1.0, top: int = 12
) -> list[dict[str, Any]]:
    """cProfile of about `seconds` of back-to-back requests per kind; the top functions by
    their own time, as shares of the total."""
    out = []
    key = env.key_pg or env.key_sqlite
    store = "postgres" if env.key_pg else "sqlite"
    configs: dict[str, tuple[dict[str, Any], list[tuple[bytes, bytes]]]] = {
        "local": ({"store": store, "redis": False, "local_ttl": 3600.0}, bearer(key)),
        "garbage": (
            {"store": store, "redis": False, "unlimited_failures": True},
            bearer(garbage_of(key)),
        ),
        "missing": ({"store": store, "redis": False}, []),
        "redis": ({"redis": True, "local_ttl": 0}, bearer(env.key_pg)),
        "store": ({"redis": False, "local_ttl": 0}, bearer(env.key_pg)),
    }
    for kind in sorted(kinds & configs.keys()):
        options, headers = configs[kind]
        app = keyguard_app(env, **options)
        async with Lifespan(app):
            out.append(await _profile(kind, app, headers, seconds, top))
    return out


async def _profile(
    kind: str, app: APIKeyMiddleware, headers: list[tuple[bytes, bytes]], seconds: float, top: int
) -> dict[str, Any]:
    request = _request(app, headers)
    await request()
    profiler = cProfile.Profile()
    deadline, count = time.monotonic() + seconds, 0
    profiler.enable()
    while time.monotonic() < deadline:
        for _ in range(100):
            await request()
        count += 100
    profiler.disable()
    stats = pstats.Stats(profiler)
    total = sum(row[2] for row in stats.stats.values())  # type: ignore[attr-defined]
    rows = sorted(stats.stats.items(), key=lambda item: item[1][2], reverse=True)[:top]  # type: ignore[attr-defined]
    functions = [
        {
            "function": f"{Path(f).name}:{line}({name})",
            "share": own / total,
            "us_per_request": own / count * 1e6,
        }
        for (f, line, name), (_, _, own, _, _) in rows
    ]
    return {"kind": kind, "requests": count, "functions": functions}
