"""The Redis adapters against the real Redis, each test under its own key prefix."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from keyguard import Access, KeyRecord, SQLiteKeyStore
from keyguard.adapters import RedisFailureLimiter, RedisKeyCache
from keyguard.core import CacheUnavailableError
from keyguard.ports import CacheMiss


@pytest.fixture
async def cache(redis_url: str, redis_prefix: str) -> AsyncIterator[RedisKeyCache]:
    cache = RedisKeyCache.from_url(redis_url, prefix=f"{redis_prefix}{secrets.token_hex(3)}:")
    yield cache
    await cache.close()


def record(**kw: object) -> KeyRecord:
    fields: dict[str, object] = {
        "id": "key_01",
        "name": "n",
        "account": "a",
        "owner": "o",
        "environment": "live",
        "access": Access.PUBLISHABLE,
        "prefix": "pk_live_",
        "last4": "wxyz",
        "created_at": datetime(2026, 1, 1, 12, 0, 0, 123000, tzinfo=UTC),
        "expires_at": datetime(2027, 1, 1, tzinfo=UTC),
        "metadata": {"team": "ops"},
    }
    fields.update(kw)
    return KeyRecord(**fields)  # type: ignore[arg-type]


async def test_records_round_trip_and_misses_are_told_apart(cache: RedisKeyCache) -> None:
    assert await cache.get(b"a" * 32) is CacheMiss.ABSENT
    await cache.put(b"a" * 32, record())
    await cache.put(b"b" * 32, None)
    got = await cache.get(b"a" * 32)
    assert got == record()
    assert isinstance(got, KeyRecord)
    assert dict(got.metadata) == {"team": "ops"}
    assert await cache.get(b"b" * 32) is None


async def test_an_invalidation_tombstones_so_a_late_fill_cannot_restore_the_key(
    cache: RedisKeyCache,
) -> None:
    digest = b"c" * 32
    await cache.put(digest, record())
    await cache.invalidate(digest)
    assert await cache.get(digest) is CacheMiss.INVALIDATED
    await cache.put(digest, record())  # a fill that read the store before the change
    assert await cache.get(digest) is CacheMiss.INVALIDATED


async def test_entries_expire(redis_url: str, redis_prefix: str) -> None:
    cache = RedisKeyCache.from_url(
        redis_url, prefix=f"{redis_prefix}ttl:", ttl=0.1, negative_ttl=0.1
    )
    await cache.put(b"d" * 32, record())
    await cache.put(b"e" * 32, None)
    await asyncio.sleep(0.25)
    assert await cache.get(b"d" * 32) is CacheMiss.ABSENT
    assert await cache.get(b"e" * 32) is CacheMiss.ABSENT
    await cache.close()


async def test_invalidations_reach_every_listener(cache: RedisKeyCache, redis_url: str) -> None:
    other = RedisKeyCache.from_url(redis_url, prefix=cache.prefix)
    heard: list[bytes] = []
    resyncs: list[int] = []
    listener = asyncio.create_task(other.listen(heard.append, lambda: resyncs.append(1)))
    try:
        await _until(lambda: bool(resyncs))  # subscribed
        await cache.invalidate(b"f" * 32)
        await _until(lambda: heard == [b"f" * 32])
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await other.close()


async def test_an_unreachable_redis_is_cache_unavailable_quickly() -> None:
    cache = RedisKeyCache.from_url("redis://127.0.0.1:1/0", timeout=0.2)
    for call in (cache.get(b"x" * 32), cache.put(b"x" * 32, None), cache.invalidate(b"x" * 32)):
        with pytest.raises(CacheUnavailableError):
            await call
    await cache.close()


async def test_the_listener_resyncs_after_losing_redis() -> None:
    cache = RedisKeyCache.from_url("redis://127.0.0.1:1/0", timeout=0.1)
    resyncs: list[int] = []
    listener = asyncio.create_task(cache.listen(lambda d: None, lambda: resyncs.append(1)))
    try:
        await _until(lambda: len(resyncs) >= 2)  # it keeps trying, clearing each time
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await cache.close()


async def test_redis_failure_limiter_is_shared_and_falls_back(cache: RedisKeyCache) -> None:
    one = RedisFailureLimiter(cache.client, limit=2, window=60, prefix=cache.prefix)
    two = RedisFailureLimiter(cache.client, limit=2, window=60, prefix=cache.prefix)
    assert await one.record_failure("1.2.3.4") == 0
    assert await two.record_failure("1.2.3.4") > 0  # the second process sees the first's failure
    assert await one.retry_after("1.2.3.4") > 0
    assert await one.retry_after("5.6.7.8") == 0
    dead = RedisKeyCache.from_url("redis://127.0.0.1:1/0", timeout=0.1)
    fallback = RedisFailureLimiter(dead.client, limit=1, window=60)
    assert await fallback.record_failure("1.2.3.4") > 0  # counted in-process instead
    await dead.close()


async def _until(condition: object) -> None:
    deadline = asyncio.get_running_loop().time() + 5.0
    while not condition():  # type: ignore[operator]
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_a_corrupt_entry_sends_the_verifier_to_the_store(
    cache: RedisKeyCache, sqlite_store: SQLiteKeyStore
) -> None:
    from keyguard import KeyHasher, KeyManager
    from keyguard.services import KeyVerifier, LocalCache

    manager = KeyManager(sqlite_store, hasher=KeyHasher("p"))
    created = await manager.create(account="a", name="n", environment="test", access="secret")
    digest = manager.hasher.digest(created.value)
    await cache.client.set(f"{cache.prefix}key:{digest.hex()}", b"{not json")
    verifier = KeyVerifier(
        sqlite_store,
        hasher=manager.hasher,
        shared_cache=cache,
        local_cache=LocalCache(ttl=0),
    )
    assert await verifier.verify(created.value) == created.record
    assert verifier.store_lookups == 1
