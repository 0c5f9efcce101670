"""The shared-cache contract (tests/stores/test_redis_cache.py's tests) through a sentinel URL,
and a master moved by hand: a write meeting READONLY fails as the cache being unavailable, and
the next one lands on the master the sentinels name."""

from __future__ import annotations

import os
import secrets
from collections.abc import AsyncIterator

import pytest

from keyguard.adapters import RedisKeyCache
from keyguard.core import CacheUnavailableError
from tests.stores import test_redis_cache as contract

from ._group import HOST, SERVICE, SentinelGroup


def _prefix() -> str:
    return f"kg-sentinel-{os.getpid()}-{secrets.token_hex(3)}:"


@pytest.fixture
async def cache(sentinels: SentinelGroup) -> AsyncIterator[RedisKeyCache]:
    cache = contract.make_cache(sentinels.url, prefix=_prefix(), timeout=1.0)
    yield cache
    await cache.close()


async def test_round_trip(cache: RedisKeyCache) -> None:
    await contract.test_records_round_trip_and_misses_are_told_apart(cache)


async def test_a_tombstone_beats_a_late_fill(cache: RedisKeyCache) -> None:
    await contract.test_an_invalidation_tombstones_so_a_late_fill_cannot_restore_the_key(cache)


async def test_entries_expire(sentinels: SentinelGroup) -> None:
    await contract.test_entries_expire(sentinels.url, _prefix())


async def test_an_entry_written_back_after_it_expired_is_not_used(cache: RedisKeyCache) -> None:
    await contract.test_an_entry_written_back_after_it_expired_is_not_used(cache)


async def test_changes_reach_listeners(cache: RedisKeyCache, sentinels: SentinelGroup) -> None:
    await contract.test_changes_reach_every_listener_and_forged_ones_do_not(cache, sentinels.url)


async def test_the_failure_limiter_is_shared(cache: RedisKeyCache) -> None:
    await contract.test_redis_failure_limiter_is_shared_and_falls_back(cache)
    await contract.test_redis_failure_slots_are_atomic_across_processes(cache)


async def test_no_sentinel_answering_is_cache_unavailable_masked() -> None:
    url = f"redis+sentinel://:s3cr3t@{HOST}:1,{HOST}:2/{SERVICE}?sentinel_password=s3cr3t"
    cache = contract.make_cache(url, timeout=0.2)
    assert "s3cr3t" not in repr(cache)
    with pytest.raises(
        CacheUnavailableError, match=r"Redis at redis\+sentinel://:\*\*\*@"
    ) as caught:
        await cache.get(b"a" * 32)
    assert "s3cr3t" not in str(caught.value)
    await cache.close()


async def test_a_write_to_a_demoted_master_fails_once_then_reaches_the_new_one(
    own_sentinels: SentinelGroup,
) -> None:
    """An operator moves the master by hand (the replica promoted, the old master made its
    replica, the sentinels told), so nothing closes the client's open connection to the old
    one: its next write meets READONLY."""
    group = own_sentinels
    cache = contract.make_cache(group.url, prefix=_prefix(), timeout=1.0)
    try:
        await cache.put(b"a" * 32, None)  # a pooled connection to the master
        group.ask(group.replica_port, "REPLICAOF", "NO", "ONE")
        group.ask(group.master_port, "REPLICAOF", HOST, str(group.replica_port))
        for port in group.sentinel_ports:
            group.ask(port, "SENTINEL", "REMOVE", SERVICE)
            group.ask(port, "SENTINEL", "MONITOR", SERVICE, HOST, str(group.replica_port), "2")
        with pytest.raises(CacheUnavailableError, match="ConnectionError"):
            await cache.put(b"b" * 32, None)
        await cache.put(b"c" * 32, None)
        new_master = group.node(group.replica_port)
        try:
            assert new_master.exists(cache.entry_key(b"c" * 32))
            assert not new_master.exists(cache.entry_key(b"b" * 32))
        finally:
            new_master.close()
    finally:
        await cache.close()
