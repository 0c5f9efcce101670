"""Issue 16: what a hit costs as the store and Redis fill up. The cases look up many keys in
turn (a cursor over a few thousand sample keys spread through the table), not one hot key, so
the index pages a lookup reads are the ones a real spread of clients would make it read.

- keyguard's Postgres hit (Redis off, local cache off: one store lookup per request), beside a
  bare asyncpg prepared fetchrow of the same rows by digest, interleaved, at each store size;
- keyguard's Redis hit (local cache off: one GET per request), beside a bare redis-py GET of the
  same entries, with few and with many entries in Redis.
"""

from __future__ import annotations

import contextlib
import itertools
from collections.abc import Sequence
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from keyguard import APIKeyMiddleware, KeyGuard, KeyHasher, Settings
from keyguard.adapters._redis import entry_key
from keyguard.adapters._sql_shapes import KEY_COLUMNS

from . import inprocess
from .apps import REDIS_TTL, bare_starlette
from .environment import BenchEnv
from .inprocess import Case, Span, call_case, expect_lookups, http_scope, respond

__all__ = ["Lookups", "scale_app"]


def scale_app(env: BenchEnv, *, redis: bool) -> APIKeyMiddleware:
    """The bare app behind keyguard with the local cache off, so that every request reaches
    Redis (`redis`) or the store; Redis entries live for the whole run."""
    settings = Settings(
        database_url=env.database_url,
        redis_url=env.redis_url if redis else None,
        redis_prefix=env.redis_prefix,
        pepper=env.pepper,
        local_cache_ttl=0,
        redis_cache_ttl=REDIS_TTL,
    )
    return APIKeyMiddleware(bare_starlette(), guard=KeyGuard(settings))


def _rotating_app_case(name: str, app: APIKeyMiddleware, keys: Sequence[str]) -> Case:
    """Requests through `app`, each with the next of `keys` (a cursor that goes on across
    batches); checked (and, for a Redis hit, its entry filled) with a request per key."""
    templates = [http_scope([(b"authorization", f"Bearer {key}".encode())]) for key in keys]
    cursor = itertools.cycle(templates)

    async def batch(n: int) -> Span:
        scopes = [dict(next(cursor)) for _ in range(n)]
        start = Span.start()
        for scope in scopes:
            await app(scope, inprocess._receive, inprocess._send)
        return start.elapsed()

    async def check() -> None:
        for template in templates:
            seen, _ = await respond(app, dict(template))
            if seen != [200]:
                raise RuntimeError(f"{name}: expected 200, got {seen}")

    return expect_lookups(Case(name, batch, check), app, store=int(not app.guard.shared_cache),
                          shared=int(bool(app.guard.shared_cache)))  # fmt: skip


class Lookups:
    """The apps and bare clients the lookup cases use, started once for the whole phase."""

    def __init__(self, env: BenchEnv, stack: contextlib.AsyncExitStack) -> None:
        self.env, self.stack = env, stack
        self.hasher = KeyHasher(env.pepper)

    async def start(self) -> None:
        self.store_app = scale_app(self.env, redis=False)
        self.redis_app = scale_app(self.env, redis=True)
        for app in (self.store_app, self.redis_app):
            await self.stack.enter_async_context(app.guard)
        self.conn = await asyncpg.connect(self.env.database_url, timeout=5)
        self.stack.push_async_callback(self.conn.close)
        self.redis = aioredis.Redis.from_url(self.env.redis_url, socket_timeout=5)
        self.stack.push_async_callback(self.redis.aclose)
        sql = f"SELECT {KEY_COLUMNS} FROM keyguard_keys WHERE digest = $1"
        self.statement = await self.conn.prepare(sql)

    async def table_sizes(self) -> dict[str, int]:
        """The keys table's size on disk, and its digest index's (what a lookup walks)."""
        row = await self.conn.fetchrow(
            "SELECT pg_table_size('keyguard_keys') AS table_bytes,"
            " pg_relation_size('keyguard_keys_digest') AS digest_index_bytes"
        )
        assert row is not None
        return dict(row)

    def entry_name(self, key: str) -> str:
        return entry_key(self.env.redis_prefix, self.hasher.digest(key))

    async def warm(self, keys: Sequence[str]) -> None:
        """One request per key through the Redis-hit app: each entry written to Redis."""
        for key in keys:
            scope = http_scope([(b"authorization", f"Bearer {key}".encode())])
            seen, _ = await respond(self.redis_app, scope)
            if seen != [200]:
                raise RuntimeError(f"filling Redis: expected 200, got {seen}")

    def _cases(self, keys: Sequence[str], redis: bool) -> list[Case]:
        if redis:
            names = itertools.cycle([self.entry_name(key) for key in keys])
            return [
                _rotating_app_case("keyguard.redis_hit", self.redis_app, keys),
                call_case("ref.redis_get", lambda: self.redis.get(next(names)),
                          lambda raw: raw is not None, awaited=True),
            ]  # fmt: skip
        digests = itertools.cycle([self.hasher.digest(key) for key in keys])
        return [
            _rotating_app_case("keyguard.store_hit", self.store_app, keys),
            call_case("ref.asyncpg_fetch", lambda: self.statement.fetchrow(next(digests)),
                      lambda row: row is not None, awaited=True),
        ]  # fmt: skip

    async def measure(
        self, keys: Sequence[str], *, redis: bool, rounds: int, batch_seconds: float,
        deadline: float,
    ) -> dict[str, Any]:  # fmt: skip
        """keyguard's hit and the bare call, interleaved, over `keys` in turn; with the ratio."""
        measured = await inprocess.run(
            self._cases(keys, redis), rounds=rounds, batch_seconds=batch_seconds,
            deadline=deadline,
        )  # fmt: skip
        mine, bare = measured.values()
        return {
            "cases": measured,
            "sampled_keys": len(keys),
            "ratio": mine["median_us"] / bare["median_us"],
            "cpu_ratio": mine["cpu_us"] / max(1e-9, bare["cpu_us"]),
            "extra_us": mine["median_us"] - bare["median_us"],
        }
