"""The guard's own hooks: `flushed` by the background writers, `watch` with gauges that say
what the process holds; and the guard without an observer, whose paths are the plain ones
(this is how "off costs nothing" is kept)."""

from __future__ import annotations

from pathlib import Path

import httpx

from keyguard import KeyGuard, Settings, SQLiteKeyStore
from keyguard.services import KeyVerifier
from keyguard.web import APIKeyMiddleware

from ._recording import Hook, RecordingObserver
from .conftest import QUIET, Client, bearer, mint, noting_app

RECORD_LAST_USED = ("store", "record_last_used")


async def test_a_flush_reports_its_batch_once_and_nothing_when_there_was_nothing(
    guard: KeyGuard, client: httpx.AsyncClient, recorder: RecordingObserver
) -> None:
    for _ in range(2):
        key, _ = await mint(guard)
        assert (await client.get("/v1/me", headers=bearer(key))).status_code == 200
    assert guard.last_used.pending == 2
    recorder.take()
    await guard.last_used.flush()
    assert recorder.shape() == [
        ("call", *RECORD_LAST_USED),
        ("call.exit", *RECORD_LAST_USED, None),
        ("flushed", "last_used", 2),
    ]
    (lag,) = [hook.args[2] for hook in recorder.named("flushed")]
    assert isinstance(lag, float) and lag >= 0.0
    recorder.take()
    await guard.last_used.flush()
    await guard.quota_writer.flush()
    assert recorder.hooks == []  # nothing to write: no call, no report


async def test_a_failed_write_reports_nothing_and_keeps_its_batch(
    guard: KeyGuard, client: httpx.AsyncClient, recorder: RecordingObserver
) -> None:
    key, _ = await mint(guard)
    assert (await client.get("/v1/me", headers=bearer(key))).status_code == 200
    await guard.store.close()
    try:
        recorder.take()
        await guard.last_used.flush()
        assert not recorder.named("flushed")
        (failed,) = recorder.named("call.exit")
        assert failed.args[:2] == RECORD_LAST_USED and failed.args[2] is not None
        assert guard.last_used.pending == 1  # kept for the next try
    finally:
        await guard.store.open()
    recorder.take()
    await guard.last_used.flush()
    assert [hook.args[:2] for hook in recorder.named("flushed")] == [("last_used", 1)]


async def test_the_quota_writer_reports_like_the_last_used_one(
    guard: KeyGuard, client: httpx.AsyncClient, recorder: RecordingObserver
) -> None:
    key, _ = await mint(guard, rate_limits=[], quota={"remaining": 5})
    assert (await client.get("/v1/me", headers=bearer(key))).status_code == 200
    await guard.store.close()
    try:
        recorder.take()
        await guard.quota_writer.flush()
        assert not recorder.named("flushed") and len(guard.quota_writer.pending) == 1
    finally:
        await guard.store.open()
    recorder.take()
    await guard.quota_writer.flush()
    assert recorder.shape()[-1] == ("flushed", "quota", 1)
    assert [hook.name for hook in recorder.hooks].count("flushed") == 1


async def test_watch_is_called_once_and_the_gauges_follow_the_process(
    tmp_path: Path, client_for: Client, recorder: RecordingObserver
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/k.db", pepper="observe", **QUIET)
    guard = KeyGuard(settings, observer=recorder)
    assert recorder.history == [Hook("watch", (guard.gauges,))]  # as the guard is built
    (read,) = recorder.history[0].args
    assert callable(read)
    closed = {"shared_cache": False, "usage_limits": False}
    # Not started: the change log is not read; no Redis: no notices to be live or not.
    assert tuple(read()) == (0, closed, False, 0, None)
    async with guard, client_for(guard) as client:
        assert read().change_feed_live
        key, _ = await mint(guard)
        assert (await client.get("/v1/me", headers=bearer(key))).status_code == 200
        assert (read().cached_keys, read().pending_last_used) == (1, 1)
        await guard.last_used.flush()
        assert read().pending_last_used == 0
        guard.verifier.local.clear()
        assert read().cached_keys == 0
        for _ in range(3):  # enough failures to open the breakers
            guard.verifier.shared.breaker.failure()
            guard.usage.breaker.failure()
        assert read().breakers_open == {"shared_cache": True, "usage_limits": True}
    assert [hook.name for hook in recorder.history].count("watch") == 1


def test_without_an_observer_the_paths_are_the_plain_ones(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/k.db", redis_url="redis://x:1/0")
    guard = KeyGuard(settings)
    assert type(guard.store) is SQLiteKeyStore  # the store itself, not a stand-in
    assert guard.observer is None and guard.verifier.observer is None
    assert guard.last_used.observer is None and guard.quota_writer.observer is None
    assert type(guard.shared_cache).__name__ == "RedisKeyCache"
    assert type(guard.failure_limiter).__name__ == "RedisFailureLimiter"
    assert type(guard.usage.shared).__name__ == "RedisRateLimiter"
    middleware = APIKeyMiddleware(noting_app(RecordingObserver()), guard=guard)
    assert middleware._observed is None
    assert middleware._cached.__func__ is KeyVerifier.cached  # type: ignore[attr-defined]
    assert middleware._cached.__self__ is guard.verifier  # type: ignore[attr-defined]
    plain = {"_attach": "_attach", "_hit": "_attach", "_admit_cached": "_admit"}
    plain["_let_in_cached"] = "_let_in"
    for name, method in plain.items():  # the middleware's own methods, nothing in between
        bound = getattr(middleware, name)
        assert bound.__func__ is getattr(APIKeyMiddleware, method), name
        assert bound.__self__ is middleware
    # And with one, each is a stand-in (so the test above can tell them apart).
    observed = KeyGuard(settings, observer=RecordingObserver())
    assert type(observed.store) is not SQLiteKeyStore
    assert repr(observed.store) == repr(guard.store)
    watched = APIKeyMiddleware(noting_app(RecordingObserver()), guard=observed)
    assert watched._cached.__func__ is KeyVerifier.cached  # type: ignore[attr-defined]
    for name in plain:
        assert (
            getattr(getattr(watched, name), "__func__", None) not in vars(APIKeyMiddleware).values()
        )
