"""Redis dies, Redis comes back: keys keep their answers, and the circuit breaker keeps a dead
Redis from costing every request a round trip.

Each test runs its own `redis-server` (killed with SIGKILL, restarted on the same port) and
drives an in-process guard whose local TTL is short (0.2 s), so the local cache hides little.
"""

from __future__ import annotations

import asyncio
import time

import pytest
import redis.asyncio as aioredis

from keyguard import Settings
from keyguard.adapters._redis import entry_key

from ._faults import HOST, FaultyLink
from ._servers import RedisServer
from ._support import PEPPER, InProcess, Load, says_valid, wait_for
from .conftest import MakeGuard

LOCAL_TTL = 0.2


def _settings(pg_database_url: str, redis_url: str, redis_prefix: str) -> Settings:
    return Settings(
        database_url=pg_database_url,
        redis_url=redis_url,
        pepper=PEPPER,
        redis_prefix=redis_prefix,
        local_cache_ttl=LOCAL_TTL,
    )


async def test_redis_killed_and_restarted(
    redis_server: RedisServer,
    pg_database_url: str,
    redis_prefix: str,
    make_guard: MakeGuard,
    account: str,
) -> None:
    guarded = await make_guard(_settings(pg_database_url, redis_server.url, redis_prefix))
    guard, verifier = guarded.guard, guarded.guard.verifier
    valid = await guard.manager.create(
        account=account, name="v", environment="live", access="secret"
    )
    revoked = await guard.manager.create(
        account=account, name="r", environment="live", access="secret"
    )
    late = await guard.manager.create(
        account=account, name="l", environment="live", access="secret"
    )
    await guard.manager.revoke(revoked.record.id)
    valid_entry = entry_key(redis_prefix, guard.hasher.digest(valid.value))
    revoked_entry = entry_key(redis_prefix, guard.hasher.digest(revoked.value))
    late_entry = entry_key(redis_prefix, guard.hasher.digest(late.value))

    async def in_redis(*entries: str) -> bool:
        client = redis_server.client()
        try:
            return all([await client.exists(e) for e in entries])
        finally:
            await client.aclose()

    keys = {"valid": valid.value, "revoked": revoked.value, "late": late.value}
    async with Load(guarded, keys) as load:
        await wait_for(lambda: in_redis(valid_entry), within=10, what="the entry in Redis")

        redis_server.kill()
        killed = time.monotonic()
        await wait_for(
            lambda: _true(verifier.shared.breaker.is_open), within=10, what="the breaker to open"
        )
        # Open: until it half-opens (2 s after the failure that opened it), misses go straight
        # to the store and Redis is not asked at all.
        shared, store = verifier.shared.lookups, verifier.store_lookups
        window_ends = min(verifier.shared.breaker._open_until - 0.2, time.monotonic() + 1.0)
        await asyncio.sleep(max(0.0, window_ends - time.monotonic()))
        assert verifier.shared.breaker.is_open
        assert verifier.shared.lookups == shared, "Redis was asked while the breaker was open"
        assert verifier.store_lookups >= store + 2, "no miss happened during the window"

        # Revoked while Redis is down: refused at once here (the invalidation could not be
        # published, which is logged; this process forgot the key all the same).
        await guard.manager.revoke(late.record.id)
        revoked_late = time.monotonic()
        assert await guarded.status(late.value) == 401

        redis_server.start()  # same port, empty: no persistence
        restarted = time.monotonic()
        shared = verifier.shared.lookups
        await wait_for(
            lambda: in_redis(valid_entry, revoked_entry, late_entry),
            within=10,
            what="the entries to be cached in Redis again",
        )
        assert verifier.shared.lookups > shared
        assert not verifier.shared.breaker.is_open
        # Caching resumed: after a few local TTLs, misses are answered by Redis, not the store;
        # except the key revoked during the outage, whose invalidation was redelivered: its
        # tombstone sends lookups to the store (without filling) until it expires.
        asked: list[bytes] = []
        find = guard.store.find_by_digest

        async def counted(digest: bytes) -> object:
            asked.append(digest)
            return await find(digest)

        shared = verifier.shared.lookups
        guard.store.find_by_digest = counted
        await asyncio.sleep(4 * LOCAL_TTL)
        guard.store.find_by_digest = find
        assert set(asked) <= {guard.hasher.digest(late.value)}, "the store was still asked"
        assert verifier.shared.lookups > shared

    assert load.statuses("valid") == {200}
    assert load.statuses("revoked") == {401}
    assert load.statuses("late") <= {200, 401}
    assert load.statuses("late", sent_after=revoked_late) == {401}
    sent_during_outage = [t for t, _ in load.answers["valid"] if killed < t < restarted]
    assert len(sent_during_outage) >= 10, "too little traffic while Redis was down"


@pytest.mark.parametrize("cold_start", [False, True], ids=["warm", "slow-first-call"])
async def test_a_revocation_redis_missed_is_not_undone_when_redis_returns(
    redis_server: RedisServer,
    pg_database_url: str,
    redis_prefix: str,
    make_guard: MakeGuard,
    account: str,
    cold_start: bool,
) -> None:
    """Redis unreachable (a partition, not a restart: it keeps its data) while a key is
    revoked. When Redis is back it still holds the key's entry as valid; no process that heard
    of the revoke may take it back, and the first to read it again tombstones it."""
    link = FaultyLink(HOST, redis_server.port)
    try:
        url = f"redis://{link.url_host}/0"
        guarded = await make_guard(_settings(pg_database_url, url, redis_prefix))
        guard = guarded.guard
        key = await guard.manager.create(
            account=account, name="p", environment="test", access="secret"
        )
        digest = guard.hasher.digest(key.value)
        entry = entry_key(redis_prefix, digest)
        client = redis_server.client()
        try:
            if cold_start:  # a first Redis call slower than redis_timeout: no entry written
                link.delay(0.3)
            assert await guarded.status(key.value) == 200
            link.restore()
            await _until_valid_in_redis(guarded, key.value, client, entry, digest)

            link.cut()  # Redis is up, but this process cannot reach it
            await guard.manager.revoke(key.record.id)  # logged: the notice was not sent
            assert await guarded.status(key.value) == 401
            link.restore()  # reachable again, stale entry and all
            assert says_valid(await client.get(entry), digest)  # what a careless reader sees

            await _refused_and_repaired(guarded, key.value, client, entry, digest)
        finally:
            await client.aclose()
    finally:
        link.close()


async def _refused_and_repaired(
    guarded: InProcess, value: str, client: aioredis.Redis, entry: str, digest: bytes
) -> None:
    """Several local TTLs with the breaker closed, so the shared cache is asked again: the
    revoked key is never accepted, and the stale entry is replaced by a tombstone."""
    answers = []
    breaker = guarded.guard.verifier.shared.breaker
    until = time.monotonic() + 5 * LOCAL_TTL
    while time.monotonic() < until:
        answers.append(await guarded.status(value))
        if breaker.is_open:
            until = max(until, time.monotonic() + 5 * LOCAL_TTL)
        await asyncio.sleep(0.02)
    assert set(answers) == {401}, f"the revoked key was accepted again: {answers}"
    deadline = time.monotonic() + 5
    while (raw := await client.get(entry)) != b"!":
        assert not says_valid(raw, digest) or time.monotonic() < deadline, (
            "the stale entry was never replaced"
        )
        await asyncio.sleep(0.05)


async def _until_valid_in_redis(
    guarded: InProcess, value: str, client: aioredis.Redis, entry: str, digest: bytes
) -> None:
    """Until Redis holds a valid entry for the key: the test's starting point. Filling Redis
    is best effort: a call slower than `redis_timeout` (a cold first connection, as on a
    newcomer's first run, where this test failed half the time when it assumed the entry)
    skips the write and opens the breaker for a while. So make sure of it, do not assume it."""
    deadline = time.monotonic() + 10
    while not says_valid(await client.get(entry), digest):
        assert time.monotonic() < deadline, "Redis never got the key's entry"
        await asyncio.sleep(LOCAL_TTL)  # the local entry lapses: the next request asks Redis
        assert await guarded.status(value) == 200


async def _true(value: bool) -> bool:
    return value
