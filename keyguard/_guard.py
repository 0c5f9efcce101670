"""`KeyGuard` wires the layers together: store, caches, verifier, manager, change feed,
last-used writer, failed-attempt limiter.

It is what the middleware, the management routes and the CLI share, and it owns the
background work (change feed, change notices, last-used flushes) that runs between `start()`
and `stop()`: use it as the app's lifespan, or let the middleware start it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import AsyncIterator
from typing import Any

from keyguard.adapters import (
    LocalFailureLimiter,
    LocalUsageCounter,
    RedisFailureLimiter,
    RedisKeyCache,
    RedisRateLimiter,
    store_from_url,
)
from keyguard.core import (
    SHARED_CACHE_MAC_CONTEXT,
    KeyFormat,
    KeyHasher,
    UnavailableError,
    derive_key,
)
from keyguard.ports import FailureLimiter, Gauges, KeyStore, Observer, SharedCache
from keyguard.services import (
    MEMORY_MARGIN,
    ChangeFeed,
    KeyManager,
    KeyVerifier,
    LastUsedRecorder,
    LocalCache,
    QuotaWriter,
    RefusalLog,
    UsageLimiting,
    background_task,
    observed_calls,
    stop_tasks,
)

from ._report import Health, check_health, log_start
from ._settings import Settings

__all__ = ["KeyGuard"]

logger = logging.getLogger(__name__)


class KeyGuard:
    def __init__(
        self,
        settings: Settings | None = None,
        *,
        store: KeyStore | None = None,
        shared_cache: SharedCache | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.settings = s = settings or Settings.from_env()
        self.observer = observer  # None: nothing reports, and nothing pays for reporting
        self.store = observed_calls(store or _store(s), observer, "store")
        redis = _redis_cache(s)
        self.shared_cache = observed_calls(shared_cache or redis, observer, "redis", "cache.")
        self.failure_limiter = self._failure_limiter(redis)
        self.key_format = KeyFormat(s.environments)
        self.hasher = KeyHasher(s.pepper)
        interval = s.last_used_interval
        self.last_used = LastUsedRecorder(self.store, interval=interval, observer=observer)
        self.verifier = self._verifier()
        self.quota_writer = QuotaWriter(self.store, interval=interval, observer=observer)
        self.usage = self._usage(redis)
        self.manager = KeyManager(
            self.store,
            key_format=self.key_format,
            hasher=self.hasher,
            listeners=[self.verifier.on_key_change, self.usage.on_key_change],
        )
        self.refusal_log = RefusalLog(self.store)  # keys used from places they may not be
        self.feed = self._feed()
        self.started = False
        self._start_lock = asyncio.Lock()
        self._background: list[asyncio.Task[None]] = []
        if observer is not None:
            observer.watch(self.gauges)

    def _failure_limiter(self, redis: RedisKeyCache | None) -> FailureLimiter:
        if redis is None:
            return LocalFailureLimiter()
        s = self.settings
        limiter = RedisFailureLimiter(redis.client, prefix=s.redis_prefix, gate=redis.gate)
        return observed_calls(limiter, self.observer, "redis", "failures.")

    def gauges(self) -> Gauges:
        """What this process holds now: for an observer's gauges (a metrics scrape)."""
        return Gauges(
            cached_keys=len(self.verifier.local),
            breakers_open={
                "shared_cache": self.verifier.shared.breaker.is_open,
                "usage_limits": self.usage.breaker.is_open,
            },
            change_feed_live=self.feed.live,
            pending_last_used=self.last_used.pending,
            # getattr: a shared cache written before the protocol asked for `listening`.
            notices_live=getattr(self.shared_cache, "listening", None),
        )

    def _verifier(self) -> KeyVerifier:
        s = self.settings
        return KeyVerifier(
            self.store,
            hasher=self.hasher,
            previous_hashers=[KeyHasher(p) for p in s.previous_peppers],
            key_format=self.key_format,
            local_cache=LocalCache(ttl=s.local_cache_ttl, max_entries=s.local_cache_size),
            shared_cache=self.shared_cache,
            shared_entry_ttl=s.redis_cache_ttl,
            max_staleness=s.max_staleness,
            last_used=self.last_used,
            observer=self.observer,
        )

    def _usage(self, redis: RedisKeyCache | None) -> UsageLimiting:
        """Rate limits and quotas: counted in Redis when there is one, else in this process."""
        s = self.settings
        return UsageLimiting(
            None
            if redis is None
            else observed_calls(RedisRateLimiter.sharing(redis), self.observer, "redis", "usage."),
            LocalUsageCounter(),
            defaults=s.rate_limit_defaults(),
            fail_open=s.rate_limit_failure == "open",
            quota_writer=self.quota_writer,
        )

    def _feed(self) -> ChangeFeed:
        s, verifier = self.settings, self.verifier
        return ChangeFeed(
            self.store,
            on_changes=verifier.on_store_changes,
            on_synced=verifier.shared.synced,
            remember=lambda change: verifier.memory.learn(change.key_id, change.seq),
            remember_for=s.redis_cache_ttl + MEMORY_MARGIN,
            poll_interval=s.change_poll_interval,
            retention=s.change_log_retention,
            notifications=s.change_notifications,
        )

    @classmethod
    def from_env(cls, **overrides: Any) -> KeyGuard:
        return cls(Settings.from_env(**overrides))

    def __repr__(self) -> str:
        return f"KeyGuard({self.settings!r})"

    async def start(self, *, wait: bool = True) -> None:
        """Connect and start the background work. `wait=False` tries the store once,
        whatever `start_wait` says: for a start on a request's path (the middleware's, when
        no lifespan ran), where a minute's wait would hold every request behind it."""
        async with self._start_lock:
            if self.started:
                return
            await self._open_store(self.settings.start_wait if wait else 0.0)
            async with contextlib.AsyncExitStack() as undo:
                undo.push_async_callback(self.store.close)  # until the start succeeded
                await self.feed.start()
                undo.push_async_callback(self.feed.stop)
                self.last_used.start()
                undo.push_async_callback(self.last_used.stop)
                self.quota_writer.start()
                undo.push_async_callback(self.quota_writer.stop)
                await log_start(self)
                self._listen()
                self.started = True
                undo.pop_all()

    def _listen(self) -> None:
        if self.shared_cache is None:
            return
        if not self.hasher.peppered:
            logger.warning(
                "no pepper is set: whoever can write to Redis can make keyguard accept"
                " any key; set KEYGUARD_PEPPER"
            )
        listen = self.shared_cache.listen(self.verifier.on_shared_change)
        self._background = [background_task(listen, "keyguard-change-notices")]

    @property
    def known_hash_versions(self) -> set[str]:
        """The hashing schemes this process can check keys under: its pepper's and the
        previous ones'."""
        return {self.hasher.version, *(h.version for h in self.verifier.previous_hashers)}

    async def health(self) -> Health:
        """Whether this process can check keys now (for a readiness route): see `Health`."""
        return await check_health(self)

    async def _open_store(self, wait: float) -> None:
        """Open the store, trying again until `wait` seconds have passed while it is
        unreachable (or not migrated yet: a release step may be running `keyguard migrate`)."""
        deadline = time.monotonic() + wait
        delay, attempt = 0.25, 1
        while True:
            try:
                return await self.store.open()
            except UnavailableError as exc:
                left = deadline - time.monotonic()
                if left <= 0:
                    raise
                logger.warning(
                    "the store is not ready (attempt %d; trying for %.0f s more): %s",
                    attempt,
                    left,
                    exc,
                )
            await asyncio.sleep(min(delay, left))
            delay, attempt = min(delay * 2, 5.0), attempt + 1

    async def stop(self) -> None:
        """Stop background work, write pending last-used times, close connections."""
        async with self._start_lock:
            if not self.started:
                return
            # Each step runs whatever the one before did (raised, or was cancelled): the
            # connections are always closed and the guard can start again.
            async with contextlib.AsyncExitStack() as steps:
                steps.push_async_callback(self.store.close)
                if self.shared_cache is not None:
                    steps.push_async_callback(self.shared_cache.close)
                steps.push_async_callback(self.last_used.stop)  # its last write needs the store
                steps.push_async_callback(self.quota_writer.stop)
                steps.push_async_callback(self.refusal_log.drain)  # so do these
                steps.push_async_callback(self.verifier.shared.close)
                steps.push_async_callback(stop_tasks, self._background)
                steps.push_async_callback(self.feed.stop)
                self._background = []
                self.started = False

    @contextlib.asynccontextmanager
    async def lifespan(self, app: object = None) -> AsyncIterator[None]:
        """For `Starlette(lifespan=guard.lifespan)` and FastAPI alike."""
        await self.start()
        try:
            yield
        finally:
            await self.stop()

    async def __aenter__(self) -> KeyGuard:
        await self.start()
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        await self.stop()


def _store(s: Settings) -> KeyStore:
    return store_from_url(
        s.database_url,
        statement_cache_size=s.statement_cache_size,
        pool_size=s.store_pool_size,
        timeout=s.store_timeout,
    )


def _redis_cache(s: Settings) -> RedisKeyCache | None:
    if not s.redis_url:
        return None
    return RedisKeyCache.from_url(
        s.redis_url,
        mac_key=derive_key(s.pepper, SHARED_CACHE_MAC_CONTEXT),
        timeout=s.redis_timeout,
        max_connections=s.redis_pool_size,
        prefix=s.redis_prefix,
        ttl=s.redis_cache_ttl,
        negative_ttl=s.redis_negative_ttl,
    )
