"""Issue 16: memory per cached key, and Redis filled with many entries.

- local: the verifier's in-process cache (`LocalCache`) filled with N records read from the
  store by keyguard's own row mapping, under tracemalloc: everything the cache keeps alive per
  key (the entry, its digest, the record with its strings and times, the key-id index), the
  rows they were read from included and then let go;
- Redis: N entries written by keyguard's `RedisKeyCache.put` under this run's prefix; the
  server's `used_memory` before and after, per entry, and `MEMORY USAGE` of one entry.
"""

from __future__ import annotations

import asyncio
import gc
import itertools
import os
import tracemalloc
from typing import Any

import asyncpg
import redis.asyncio as aioredis

from keyguard import KeyGuard, KeyHasher
from keyguard.adapters._redis import RedisKeyCache, entry_key
from keyguard.adapters._sql_shapes import KEY_COLUMNS
from keyguard.services import LocalCache

from .environment import BenchEnv

__all__ = ["drop_filler", "fill_redis", "local_memory", "redis_memory"]

_PUTS_AT_ONCE = 200
_PIPELINE = 5_000
_READ = f"SELECT {KEY_COLUMNS}, digest FROM keyguard_keys ORDER BY id LIMIT $1"


async def local_memory(guard: KeyGuard, conn: asyncpg.Connection, n: int) -> dict[str, Any]:
    """Bytes per key in a `LocalCache` of N records read from the store (tracemalloc)."""
    gc.collect()
    tracemalloc.start()
    try:
        before = tracemalloc.get_traced_memory()[0]
        cache = LocalCache(ttl=3600, max_entries=n)
        rows = await conn.fetch(_READ, n)
        for index, row in enumerate(rows):
            cache.put(row["digest"], guard.store.key_from_row(row))  # type: ignore[attr-defined]
            if index % 1_000 == 0:
                # Slow under tracemalloc: the loop stays free for the guards' background tasks
                # (a last-used write blocked past its 2 s timeout would only warn, but it did).
                await asyncio.sleep(0)
        held = len(cache)
        del rows
        gc.collect()
        grown = tracemalloc.get_traced_memory()[0] - before
    finally:
        tracemalloc.stop()
    return {"keys": held, "bytes": grown, "bytes_per_key": grown / max(1, held)}


async def _used_memory(client: aioredis.Redis) -> int:
    return int((await client.info("memory"))["used_memory"])


async def redis_memory(guard: KeyGuard, conn: asyncpg.Connection, n: int) -> dict[str, Any]:
    """Redis memory per entry for N entries written by keyguard's own `put`; then removed."""
    cache = guard.shared_cache
    assert isinstance(cache, RedisKeyCache)
    rows = await conn.fetch(_READ, n)
    pairs = [(row["digest"], guard.store.key_from_row(row)) for row in rows]  # type: ignore[attr-defined]
    names = [cache.entry_key(digest) for digest, _ in pairs]
    client = cache.client
    assert isinstance(client, aioredis.Redis), "the benchmark measures one Redis server"
    before = await _used_memory(client)
    for start in range(0, len(pairs), _PUTS_AT_ONCE):
        await asyncio.gather(*(cache.put(d, r) for d, r in pairs[start : start + _PUTS_AT_ONCE]))
    after = await _used_memory(client)
    one = await client.memory_usage(names[0])
    await _unlink(client, names)
    return {
        "entries": len(pairs),
        "used_memory_delta": after - before,
        "bytes_per_entry": (after - before) / max(1, len(pairs)),
        "memory_usage_one": one,
        "value_bytes_one": len(cache.codec.encode(pairs[0][0], pairs[0][1], 60_000)),
    }


async def _unlink(client: aioredis.Redis, names: list[str]) -> None:
    for start in range(0, len(names), _PIPELINE):
        await client.unlink(*names[start : start + _PIPELINE])


def _filler_names(prefix: str, hasher: KeyHasher, n: int) -> list[str]:
    """Entry names of N digests nobody looks up (digests of random bytes: the same length
    and spread as a key's)."""
    blob = os.urandom(16 * n)
    return [entry_key(prefix, hasher.digest_bytes(blob[i * 16 : i * 16 + 16])) for i in range(n)]


async def fill_redis(client: aioredis.Redis, env: BenchEnv, n: int, like: bytes) -> list[str]:
    """N more entries under this run's prefix, each a copy of the bytes `like` (a real
    entry's, so the same size), living an hour; their names, for `drop_filler`."""
    names = _filler_names(env.redis_prefix, KeyHasher(env.pepper), n)
    for start in range(0, n, _PIPELINE):
        async with client.pipeline(transaction=False) as pipe:
            for name in itertools.islice(names, start, start + _PIPELINE):
                pipe.set(name, like, px=3_600_000)
            await pipe.execute()
    return names


async def drop_filler(client: aioredis.Redis, names: list[str]) -> None:
    await _unlink(client, names)
