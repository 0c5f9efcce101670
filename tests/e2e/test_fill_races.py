"""Lookups racing a revoke: nothing read before a revoke may put the key back as valid, in this
process's cache or in Redis (tombstone + `SET NX`)."""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Iterable

import pytest
import redis.asyncio as aioredis

from keyguard import KeyGuard, KeyRecord, Settings
from keyguard.adapters._redis import entry_key
from keyguard.ports import StoreChange
from keyguard.services import Verdict

from ._support import Held, says_valid
from .conftest import MakeGuard


async def test_a_fill_that_read_before_a_revoke_caches_nothing(
    settings: Settings,
    make_guard: MakeGuard,
    account: str,
    monkeypatch: pytest.MonkeyPatch,
    redis_client: aioredis.Redis,
) -> None:
    guarded = await make_guard(settings)
    guard = guarded.guard
    key = await guard.manager.create(
        account=account, name="race", environment="live", access="secret"
    )
    digest = guard.hasher.digest(key.value)
    read = Held(monkeypatch, guard.store, "find_by_digest")  # reads, then waits

    first = asyncio.create_task(guarded.status(key.value))
    await read.wait_entered()  # the fill has read the key as valid and is still in flight
    await guard.manager.revoke(key.record.id)
    read.release.set()
    assert await asyncio.wait_for(first, timeout=10) in (200, 401)  # it began before the revoke

    assert await guarded.status(key.value) == 401
    entry = guard.verifier.local.get(digest)
    assert entry is None or entry.judge(time.time()) is None, "the local cache holds it as valid"
    assert not says_valid(await redis_client.get(entry_key(settings.redis_prefix, digest)), digest)
    fresh = await make_guard(settings)
    assert await fresh.status(key.value) == 401


async def test_a_fill_elsewhere_that_read_before_a_revoke_cannot_refill_redis(
    settings: Settings,
    make_guard: MakeGuard,
    account: str,
    monkeypatch: pytest.MonkeyPatch,
    redis_client: aioredis.Redis,
) -> None:
    """Another process's fill read the key before the revoke committed and writes Redis after
    the tombstone: its `SET NX` must find the tombstone and write nothing. That process has not
    heard the invalidation yet (it does not listen here), so only its local TTL bounds it."""
    revoker = await make_guard(settings)
    ttl = 0.3
    other = KeyGuard(Settings(**{**vars(settings), "local_cache_ttl": ttl}))
    await other.store.open()
    try:
        key = await revoker.guard.manager.create(
            account=account, name="race elsewhere", environment="test", access="secret"
        )
        digest = other.hasher.digest(key.value)
        read = Held(monkeypatch, other.store, "find_by_digest")

        fill = asyncio.create_task(other.verifier.verify(key.value))
        await read.wait_entered()
        await revoker.guard.manager.revoke(key.record.id)
        read.release.set()
        assert isinstance(await asyncio.wait_for(fill, timeout=10), KeyRecord)  # read before

        raw = await redis_client.get(entry_key(settings.redis_prefix, digest))
        assert raw == b"!", f"expected the tombstone, found {raw!r}"
        assert await revoker.status(key.value) == 401
        fresh = await make_guard(settings)
        assert await fresh.status(key.value) == 401

        since = time.monotonic()
        while (verdict := await other.verifier.verify(key.value)) is not Verdict.INVALID:
            assert isinstance(verdict, KeyRecord)
            assert time.monotonic() - since < ttl + 1.0, "held past its local TTL"
            await asyncio.sleep(0.01)
    finally:
        await other.store.close()
        if other.shared_cache is not None:
            await other.shared_cache.close()


async def test_a_lookup_during_the_revokes_invalidation_does_not_recache_the_key(
    settings: Settings, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    """`revoke` commits, this process forgets the key, then the tombstone goes to Redis. A
    lookup in between reads Redis's old (valid) entry; once `revoke` has returned, the key
    must be refused here all the same.

    The revoking guard's invalidation listener is not running (as while it reconnects), so
    its own pub/sub echo, which usually arrives about when `revoke` returns, cannot hide the
    window: the promise must not hang on that echo's timing."""
    guard = KeyGuard(settings)
    await guard.store.open()
    try:
        shared = guard.shared_cache
        assert shared is not None
        key = await guard.manager.create(
            account=account, name="window", environment="live", access="secret"
        )
        # Trusted, as a running change feed keeps it; the feed itself is not running, so only
        # what `revoke` does can keep Redis's old entry from being used.
        guard.verifier.shared.synced(math.inf)
        assert isinstance(await guard.verifier.verify(key.value), KeyRecord)  # here and in Redis

        send_invalidation = shared.invalidate
        during: list[KeyRecord | Verdict] = []

        async def lookup_then_invalidate(
            digests: Iterable[bytes], change: StoreChange | None
        ) -> None:
            if change is not None:  # the revoke's own notice, not a background repair
                during.append(await guard.verifier.verify(key.value))  # a request in the window
            await send_invalidation(digests, change)

        monkeypatch.setattr(shared, "invalidate", lookup_then_invalidate)
        await guard.manager.revoke(key.record.id)
        after = guard.verifier.check_cached(key.value)  # no await since revoke returned

        assert len(during) == 1  # either answer is fine for it: it overlapped the revoke
        assert not isinstance(after, KeyRecord), "accepted by the revoking process after revoke"
        assert await guard.verifier.verify(key.value) is Verdict.INVALID
    finally:
        await guard.store.close()
        if guard.shared_cache is not None:
            await guard.shared_cache.close()
