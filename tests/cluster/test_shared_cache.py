"""The shared cache's contract on a real Redis Cluster: the single-Redis tests of
`tests/stores/test_redis_cache.py` run here again, on the cluster (this folder's `redis_url`),
and where the keys land is checked: entries spread over every master, a client's two
failure windows share a slot."""

from __future__ import annotations

import secrets

import pytest
from redis.asyncio.cluster import RedisCluster

from keyguard.adapters import RedisFailureLimiter, RedisKeyCache
from keyguard.core import CacheUnavailableError

from ..stores import test_redis_cache as single
from ._cluster import Cluster

cache = single.cache
test_records_round_trip_and_misses_are_told_apart = (
    single.test_records_round_trip_and_misses_are_told_apart
)
test_an_invalidation_tombstones_so_a_late_fill_cannot_restore_the_key = (
    single.test_an_invalidation_tombstones_so_a_late_fill_cannot_restore_the_key
)
test_entries_expire = single.test_entries_expire
test_an_entry_written_back_after_it_expired_is_not_used = (
    single.test_an_entry_written_back_after_it_expired_is_not_used
)
test_changes_reach_every_listener_and_forged_ones_do_not = (
    single.test_changes_reach_every_listener_and_forged_ones_do_not
)
test_redis_failure_limiter_is_shared_and_falls_back = (
    single.test_redis_failure_limiter_is_shared_and_falls_back
)
test_redis_failure_slots_are_atomic_across_processes = (
    single.test_redis_failure_slots_are_atomic_across_processes
)
test_a_corrupt_entry_sends_the_verifier_to_the_store_and_is_deleted = (
    single.test_a_corrupt_entry_sends_the_verifier_to_the_store_and_is_deleted
)


def test_the_url_names_a_cluster(cache: RedisKeyCache) -> None:
    assert isinstance(cache.client, RedisCluster)


async def test_entries_of_many_digests_land_on_every_master(
    cache: RedisKeyCache, cluster: Cluster
) -> None:
    digests = [secrets.token_bytes(32) for _ in range(60)]
    for digest in digests:
        await cache.put(digest, single.record())
    await cache.invalidate(digests[:30], None)  # tombstones: the same keys, on the same nodes
    masters = {cluster.port_of_key(cache.entry_key(digest)) for digest in digests}
    assert masters == set(cluster.masters())
    for port in masters:  # each master holds some of them itself
        with cluster.node(port) as node:
            assert node.dbsize() > 0


async def test_a_clients_failure_windows_share_a_slot_whatever_the_client_holds(
    cache: RedisKeyCache, cluster: Cluster
) -> None:
    limiter = RedisFailureLimiter(cache.client, limit=3, window=60, prefix=cache.prefix)
    for client in ("203.0.113.9", "a}b{c", "{", "}x{", "ü"):
        keys = [limiter._key(client, index) for index in (41, 42)]
        with cluster.node(cluster.live_ports()[0]) as node:
            slots = {node.execute_command("CLUSTER KEYSLOT", key) for key in keys}
        assert len(slots) == 1, client
        assert await limiter.record_failure(client) == 0  # its script and pipeline run
    slots_of = {cluster.port_of_key(limiter._key(str(n), 7)) for n in range(40)}
    assert len(slots_of) == 3  # clients spread over the masters too


async def test_an_unreachable_cluster_is_cache_unavailable_quickly() -> None:
    dead = single.make_cache("redis+cluster://127.0.0.1:1,127.0.0.1:2/", timeout=0.2)
    for call in (dead.get(b"x" * 32), dead.put(b"x" * 32, None), dead.ping()):
        with pytest.raises(CacheUnavailableError, match="Redis at redis\\+cluster"):
            await call
    with pytest.raises(CacheUnavailableError):
        await dead.invalidate([b"x" * 32], None)
    await dead.close()
