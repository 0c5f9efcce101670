"""The Redis adapters against the real Redis, each test under its own key prefix."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from datetime import UTC, datetime

import pytest

from keyguard import Access, KeyRecord, SQLiteKeyStore
from keyguard.adapters import RedisFailureLimiter, RedisKeyCache
from keyguard.core import SHARED_CACHE_MAC_CONTEXT, CacheUnavailableError, derive_key
from keyguard.ports import CacheMiss, Slot, StoreChange

from .._records import a_record

MAC_KEY = derive_key("test-pepper", SHARED_CACHE_MAC_CONTEXT)


def make_cache(url: str, **options: object) -> RedisKeyCache:
    return RedisKeyCache.from_url(url, mac_key=MAC_KEY, **options)  # type: ignore[arg-type]


@pytest.fixture
async def cache(redis_url: str, redis_prefix: str) -> AsyncIterator[RedisKeyCache]:
    cache = make_cache(redis_url, prefix=f"{redis_prefix}{secrets.token_hex(3)}:")
    yield cache
    await cache.close()


def record() -> KeyRecord:
    return a_record(
        owner="o",
        access=Access.PUBLISHABLE,
        prefix="pk_live_",
        created_at=datetime(2026, 1, 1, 12, 0, 0, 123000, tzinfo=UTC),
        expires_at=datetime(2027, 1, 1, tzinfo=UTC),
        metadata={"team": "ops"},
        version=7,
    )


async def test_records_round_trip_and_misses_are_told_apart(cache: RedisKeyCache) -> None:
    assert await cache.get(b"a" * 32) is CacheMiss.ABSENT
    await cache.put(b"a" * 32, record())
    await cache.put(b"b" * 32, None)
    got = await cache.get(b"a" * 32)
    assert got == record()
    assert isinstance(got, KeyRecord)
    assert dict(got.metadata) == {"team": "ops"}
    assert got.version == 7
    assert await cache.get(b"b" * 32) is None


async def test_an_invalidation_tombstones_so_a_late_fill_cannot_restore_the_key(
    cache: RedisKeyCache,
) -> None:
    digest = b"c" * 32
    await cache.put(digest, record())
    await cache.invalidate([digest], None)
    assert await cache.get(digest) is CacheMiss.INVALIDATED
    await cache.put(digest, record())  # a fill that read the store before the change
    assert await cache.get(digest) is CacheMiss.INVALIDATED


async def test_entries_expire(redis_url: str, redis_prefix: str) -> None:
    cache = make_cache(redis_url, prefix=f"{redis_prefix}ttl:", ttl=0.1, negative_ttl=0.1)
    await cache.put(b"d" * 32, record())
    await cache.put(b"e" * 32, None)
    await asyncio.sleep(0.25)
    assert await cache.get(b"d" * 32) is CacheMiss.ABSENT
    assert await cache.get(b"e" * 32) is CacheMiss.ABSENT
    await cache.close()


async def test_an_entry_written_back_after_it_expired_is_not_used(cache: RedisKeyCache) -> None:
    """Its expiry is under the MAC: resetting Redis's own TTL does not bring it back."""
    digest = b"r" * 32
    short = make_cache("redis://unused", prefix=cache.prefix, ttl=0.1)
    raw = short.codec.encode(digest, record(), 100)
    await short.close()
    await asyncio.sleep(0.15)
    await cache.client.set(cache.entry_key(digest), raw, px=60_000)
    assert await cache.get(digest) is CacheMiss.ABSENT


async def test_changes_reach_every_listener_and_forged_ones_do_not(
    cache: RedisKeyCache, redis_url: str
) -> None:
    other = make_cache(redis_url, prefix=cache.prefix)
    heard: list[StoreChange] = []
    listener = asyncio.create_task(other.listen(heard.append))
    change = StoreChange(42, "key_01", b"f" * 32, "api_key.revoked")
    try:
        await _until(lambda: other.listening)  # subscribed, as Redis confirmed
        await cache.client.publish(cache.channel, b"key_01 43 " + b"ab" * 32 + b" forged")
        await cache.invalidate([b"f" * 32], change)
        await _until(lambda: heard == [change])
        assert other.listening  # what the notices_live gauge reads
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await other.close()
    assert not other.listening


async def test_an_unreachable_redis_is_cache_unavailable_quickly() -> None:
    cache = make_cache("redis://127.0.0.1:1/0", timeout=0.2)
    digest = b"x" * 32
    for call in (cache.get(digest), cache.put(digest, None), cache.invalidate([digest], None)):
        with pytest.raises(CacheUnavailableError):
            await call
    await cache.close()


async def test_the_listener_keeps_trying_after_losing_redis(
    caplog: pytest.LogCaptureFixture,
) -> None:
    cache = make_cache("redis://127.0.0.1:1/0", timeout=0.1)
    listener = asyncio.create_task(cache.listen(lambda change: None))
    try:
        await _until(lambda: _count(caplog, "change notices from Redis lost") >= 2)
        assert not cache.listening
    finally:
        listener.cancel()
        await asyncio.gather(listener, return_exceptions=True)
        await cache.close()


def _count(caplog: pytest.LogCaptureFixture, text: str) -> int:
    return sum(text in r.getMessage() for r in caplog.records)


async def test_redis_failure_limiter_is_shared_and_falls_back(cache: RedisKeyCache) -> None:
    one = RedisFailureLimiter(cache.client, limit=2, window=60, prefix=cache.prefix)
    two = RedisFailureLimiter(cache.client, limit=2, window=60, prefix=cache.prefix)
    assert await one.record_failure("1.2.3.4") == 0
    assert await two.record_failure("1.2.3.4") > 0  # the second process sees the first's failure
    assert not isinstance(await one.acquire("1.2.3.4"), Slot)
    assert isinstance(await one.acquire("5.6.7.8"), Slot)
    dead = make_cache("redis://127.0.0.1:1/0", timeout=0.1)
    fallback = RedisFailureLimiter(dead.client, limit=1, window=60)
    assert await fallback.record_failure("1.2.3.4") > 0  # counted in-process instead
    await dead.close()


async def test_redis_failure_slots_are_atomic_across_processes(cache: RedisKeyCache) -> None:
    """Two limiters (two processes) racing for one client's slots: never more than the limit
    in all, and a released slot is free again for either."""
    limiters = [
        RedisFailureLimiter(cache.client, limit=5, window=60, prefix=cache.prefix) for _ in range(2)
    ]
    got = await asyncio.gather(*(limiters[i % 2].acquire("9.9.9.9") for i in range(40)))
    slots = [s for s in got if isinstance(s, Slot)]
    assert len(slots) == 5
    await limiters[0].release(slots[0])
    assert isinstance(await limiters[1].acquire("9.9.9.9"), Slot)
    assert not isinstance(await limiters[0].acquire("9.9.9.9"), Slot)


async def _until(condition: object) -> None:
    deadline = asyncio.get_running_loop().time() + 5.0
    while True:
        met = condition()  # type: ignore[operator]
        if asyncio.iscoroutine(met):
            met = await met
        if met:
            return
        assert asyncio.get_running_loop().time() < deadline, "condition not met in time"
        await asyncio.sleep(0.01)


async def test_a_corrupt_entry_sends_the_verifier_to_the_store_and_is_deleted(
    cache: RedisKeyCache, sqlite_store: SQLiteKeyStore
) -> None:
    from keyguard import KeyHasher, KeyManager
    from keyguard.services import KeyVerifier, LocalCache

    manager = KeyManager(sqlite_store, hasher=KeyHasher("p"))
    created = await manager.create(account="a", name="n", environment="test", access="secret")
    digest = manager.hasher.digest(created.value)
    await cache.client.set(cache.entry_key(digest), b"{not json")
    verifier = KeyVerifier(
        sqlite_store,
        hasher=manager.hasher,
        shared_cache=cache,
        local_cache=LocalCache(ttl=0),
    )
    verifier.shared.synced(float("inf"))  # trusted, as a running change feed would make it
    assert await verifier.verify(created.value) == created.record
    assert verifier.store_lookups == 1
    assert await cache.get(digest) == created.record  # replaced by a good entry
    assert not verifier.shared.breaker.is_open
