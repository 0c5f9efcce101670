"""The local cache, circuit breaker, failure limiter and last-used recorder."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

from keyguard import Access, KeyManager, KeyRecord, SQLiteKeyStore
from keyguard.adapters import LocalFailureLimiter
from keyguard.core import seconds_to_wait
from keyguard.ports import Slot
from keyguard.services import CircuitBreaker, LastUsedRecorder, LocalCache


class Ticker:
    def __init__(self) -> None:
        self.now = 1000.0

    def __call__(self) -> float:
        return self.now


def record(key_id: str, **kw: object) -> KeyRecord:
    fields: dict[str, object] = {
        "id": key_id,
        "name": "n",
        "account": "a",
        "owner": None,
        "environment": "test",
        "access": Access.SECRET,
        "prefix": "sk_test_",
        "last4": "abcd",
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    fields.update(kw)
    return KeyRecord(**fields)  # type: ignore[arg-type]


def test_local_cache_entries_live_no_longer_than_the_ttl() -> None:
    clock = Ticker()
    cache = LocalCache(ttl=1.0, clock=clock)
    cache.put(b"d", record("key_1"))
    clock.now += 0.999
    assert cache.get(b"d") is not None
    clock.now += 0.001
    assert cache.get(b"d") is None
    assert len(cache) == 0


def test_local_cache_evicts_the_least_recently_used() -> None:
    cache = LocalCache(ttl=60, max_entries=2, clock=Ticker())
    cache.put(b"a", record("key_a"))
    cache.put(b"b", record("key_b"))
    assert cache.get(b"a") is not None  # a is now the most recent
    cache.put(b"c", record("key_c"))
    assert cache.get(b"b") is None
    assert cache.get(b"a") is not None and cache.get(b"c") is not None


def test_cached_lookups_judge_revoked_missing_and_expired() -> None:
    cache = LocalCache(ttl=60, clock=Ticker())
    now = datetime.now(UTC)
    cache.put(b"ok", record("key_ok"))
    cache.put(b"gone", None)
    cache.put(b"revoked", record("key_r", revoked_at=now))
    cache.put(b"expired", record("key_e", expires_at=now - timedelta(seconds=1)))
    assert cache.get(b"ok").judge(now.timestamp()) is not None  # type: ignore[union-attr]
    for digest in (b"gone", b"revoked", b"expired"):
        assert cache.get(digest).judge(now.timestamp()) is None  # type: ignore[union-attr]


def test_a_zero_ttl_cache_caches_nothing() -> None:
    cache = LocalCache(ttl=0)
    cache.put(b"a", record("key_a"))
    assert cache.get(b"a") is None


def test_circuit_breaker_opens_after_consecutive_failures_and_half_opens() -> None:
    clock = Ticker()
    breaker = CircuitBreaker("redis", failure_threshold=3, reset_after=2.0, clock=clock)
    breaker.failure()
    breaker.failure()
    breaker.success()
    breaker.failure()
    breaker.failure()
    assert breaker.allows()
    breaker.failure()
    assert not breaker.allows()
    clock.now += 2.0
    assert breaker.allows()  # one trial
    breaker.failure()
    assert not breaker.allows()
    clock.now += 2.0
    breaker.success()
    assert breaker.allows()


def test_sliding_window_arithmetic() -> None:
    assert seconds_to_wait(0, 2, limit=3, window=60, now=0) == 0
    assert seconds_to_wait(0, 3, limit=3, window=60, now=0) == 60
    assert seconds_to_wait(10, 0, limit=3, window=60, now=59) == 0  # 10 * 1/60 < 3
    assert seconds_to_wait(10, 0, limit=3, window=60, now=30) == 30  # 10 * 0.5 >= 3


async def test_failure_limiter_counts_per_client_and_forgets_old_windows() -> None:
    clock = Ticker()
    clock.now = 600.0
    limiter = LocalFailureLimiter(limit=2, window=60, clock=clock)
    assert await limiter.record_failure("a") == 0
    assert await limiter.record_failure("a") > 0
    assert not isinstance(await limiter.acquire("a"), Slot)  # over: no lookup
    assert isinstance(await limiter.acquire("b"), Slot)
    clock.now += 120
    assert isinstance(await limiter.acquire("a"), Slot)


async def test_slots_count_until_released_and_no_more_than_the_limit_are_handed_out() -> None:
    clock = Ticker()
    clock.now = 600.0
    limiter = LocalFailureLimiter(limit=3, window=60, clock=clock)
    slots = [await limiter.acquire("a") for _ in range(5)]
    taken = [s for s in slots if isinstance(s, Slot)]
    assert len(taken) == 3, slots  # concurrent attempts: at most the limit reach the store
    assert all(w > 0 for w in slots if not isinstance(w, Slot))
    await limiter.release(taken[0])  # that lookup found a valid key: not a failure
    assert isinstance(await limiter.acquire("a"), Slot)
    assert not isinstance(await limiter.acquire("a"), Slot)
    clock.now += 60  # a slot taken in the previous window is released from that window
    await limiter.release(taken[1])
    assert limiter._counts["a"][1] == 2  # three counted in that window, one given back


async def test_failure_limiter_memory_is_bounded() -> None:
    limiter = LocalFailureLimiter(limit=5, window=60, max_clients=10)
    for i in range(100):
        await limiter.record_failure(f"client{i}")
    assert len(limiter._counts) == 10


async def test_last_used_recorder_batches_and_keeps_times_when_the_store_fails(
    tmp_path: Path,
) -> None:
    store = SQLiteKeyStore(str(tmp_path / "k.db"))
    await store.open()
    created = await KeyManager(store).create(
        account="a", name="n", environment="test", access="secret"
    )
    recorder = LastUsedRecorder(store, interval=3600)
    recorder.touch(created.record.id)
    await store.close()
    await recorder.flush()  # fails: the store is closed
    assert recorder.pending == 1
    await store.open()
    await recorder.stop()  # the final flush on a clean stop
    assert recorder.pending == 0
    stored = await store.get_key(created.record.id)
    assert stored is not None and stored.last_used_at is not None
    await store.close()
