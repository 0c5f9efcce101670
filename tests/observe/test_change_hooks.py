"""`change_applied`: a key change reaches each process once, by the first path that brings it
("local" where it was made, "redis" for the fast notice, "log" for the store's change log),
with a lag measured from the commit; a change heard again (replayed) reports nothing."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator, Callable
from pathlib import Path

import pytest
import redis.asyncio as aioredis

from keyguard import KeyGuard, Settings

from ._recording import Hook, RecordingObserver
from .conftest import QUIET, mint

# Far above any lag a test here can see, far below one a wrong clock or unit would give (the
# commit time in ms, or 0 read as 1970): a sanity bound, not a timing assertion.
SANE_LAG = 600.0


def applied(guard: KeyGuard) -> list[Hook]:
    assert isinstance(guard.observer, RecordingObserver)
    return guard.observer.named("change_applied")


def assert_lag(hook: Hook, path: str) -> None:
    lag, heard_by = hook.args
    assert heard_by == path
    assert isinstance(lag, float) and 0.0 <= lag < SANE_LAG


async def until(condition: Callable[[], bool], what: str, bound: float = 10.0) -> None:
    deadline = time.monotonic() + bound
    while not condition():
        assert time.monotonic() < deadline, f"never: {what}"
        await asyncio.sleep(0.01)


@pytest.fixture(params=["sqlite", "postgres"])
def store_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/k.db"
    return str(request.getfixturevalue("pg_database_url"))


@pytest.fixture
async def two_guards(store_url: str) -> AsyncIterator[tuple[KeyGuard, KeyGuard]]:
    """Two guards on one store and no Redis: the other learns of a change from the log alone,
    when the test reads it (no notifications, polls an hour apart)."""
    settings = Settings(
        database_url=store_url, pepper="observe", change_notifications=False, **QUIET
    )
    a = KeyGuard(settings, observer=RecordingObserver())
    b = KeyGuard(settings, observer=RecordingObserver())
    await a.start()
    await b.start()
    yield a, b
    await b.stop()
    await a.stop()


async def test_a_change_is_applied_once_where_it_was_made_and_once_from_the_log(
    two_guards: tuple[KeyGuard, KeyGuard],
) -> None:
    a, b = two_guards
    before = await a.store.last_change()  # the store may hold other tests' changes
    _, key_id = await mint(a)
    await a.manager.revoke(key_id)
    (made,) = applied(a)
    assert_lag(made, "local")
    assert not applied(b)
    await b.feed.poll()
    (heard,) = applied(b)
    assert_lag(heard, "log")  # the log carries the commit time: the lag is known
    await a.feed.poll()  # the log replays, to the guard that made the change
    await b.feed.poll()
    b.feed.last_seq = before  # and all of this test's again, as after a reconnect
    await b.feed.poll()
    assert (applied(a), applied(b)) == ([made], [heard])
    await a.manager.revoke(key_id)  # revoking a revoked key changes nothing
    await b.feed.poll()
    assert (applied(a), applied(b)) == ([made], [heard])


@pytest.fixture
async def redis_guards(
    pg_database_url: str, redis_url: str, redis_prefix: str
) -> AsyncIterator[tuple[KeyGuard, KeyGuard]]:
    """Two guards on this run's PostgreSQL and the real Redis, the other listening for the
    fast notices; it reads the log only when the test says."""
    settings = Settings(
        database_url=pg_database_url,
        redis_url=redis_url,
        redis_prefix=f"{redis_prefix}{secrets.token_hex(3)}:",
        pepper="observe",
        change_notifications=False,
        **QUIET,
    )
    a = KeyGuard(settings, observer=RecordingObserver())
    b = KeyGuard(settings, observer=RecordingObserver())
    await a.start()
    await b.start()
    client = aioredis.Redis.from_url(redis_url)
    try:
        channel = settings.redis_prefix + "changes"
        for _ in range(1000):  # until both listen (their listeners start with the guards)
            (_, count), *_ = await client.pubsub_numsub(channel)
            if int(count) >= 2:
                break
            await asyncio.sleep(0.01)
        else:
            pytest.fail(f"fewer than two listeners on {channel}")
    finally:
        await client.aclose()
    yield a, b
    await b.stop()
    await a.stop()


async def test_the_redis_notice_brings_the_change_first_and_nothing_reports_it_again(
    redis_guards: tuple[KeyGuard, KeyGuard],
) -> None:
    a, b = redis_guards
    _, first = await mint(a)
    _, second = await mint(a)
    await a.manager.revoke(first)
    (made,) = applied(a)
    assert_lag(made, "local")
    await until(lambda: bool(applied(b)), "the notice reached the other guard")
    (heard,) = applied(b)
    assert_lag(heard, "redis")
    await b.feed.poll()  # the log brings the same change: already applied
    (change,) = [c for c in await a.store.read_changes(0, limit=100_000) if c.key_id == first]
    assert a.shared_cache is not None
    await a.shared_cache.invalidate([change.digest], change)  # the notice, sent again
    await a.manager.revoke(second)  # a new one after it: once it is in, the replay was heard
    await until(lambda: len(applied(b)) > 1, "the second notice reached the other guard")
    assert [hook.args[1] for hook in applied(b)] == ["redis", "redis"]
    assert [hook.args[1] for hook in applied(a)] == ["local", "local"]
    await a.feed.poll()
    await b.feed.poll()
    assert len(applied(a)) == len(applied(b)) == 2
