"""`KeyGuard` wires the layers together: store, caches, verifier, manager, last-used writer.

It is what the middleware, the management routes and the CLI share, and it owns the
background work (invalidation listener, last-used flushes) that runs between `start()` and
`stop()`: use it as the app's lifespan, or let the middleware start it.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator
from typing import Any

from keyguard.adapters import RedisKeyCache, store_from_url
from keyguard.core import KeyFormat, KeyHasher
from keyguard.ports import KeyStore, SharedCache
from keyguard.services import KeyManager, KeyVerifier, LastUsedRecorder, LocalCache

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
    ) -> None:
        self.settings = s = settings or Settings.from_env()
        self.store = store or store_from_url(
            s.database_url, statement_cache_size=s.statement_cache_size
        )
        self.shared_cache = shared_cache or _redis_cache(s)
        self.key_format = KeyFormat(s.environments)
        self.hasher = KeyHasher(s.pepper)
        self.last_used = LastUsedRecorder(self.store, interval=s.last_used_interval)
        self.verifier = KeyVerifier(
            self.store,
            hasher=self.hasher,
            previous_hashers=[KeyHasher(p) for p in s.previous_peppers],
            key_format=self.key_format,
            local_cache=LocalCache(ttl=s.local_cache_ttl, max_entries=s.local_cache_size),
            shared_cache=self.shared_cache,
            shared_entry_ttl=s.redis_cache_ttl,
            last_used=self.last_used,
        )
        self.manager = KeyManager(
            self.store,
            key_format=self.key_format,
            hasher=self.hasher,
            listeners=[self.verifier.on_key_change],
        )
        self.started = False
        self._start_lock = asyncio.Lock()
        self._background: list[asyncio.Task[None]] = []

    @classmethod
    def from_env(cls, **overrides: Any) -> KeyGuard:
        return cls(Settings.from_env(**overrides))

    def __repr__(self) -> str:
        return f"KeyGuard({self.settings!r})"

    async def start(self) -> None:
        async with self._start_lock:
            if self.started:
                return
            await self.store.open()
            self.last_used.start()
            if self.shared_cache is not None:
                listen = self.shared_cache.listen(self.verifier.forget, self.verifier.forget_all)
                self._background = [
                    asyncio.create_task(listen, name="keyguard-invalidations"),
                    asyncio.create_task(
                        self.verifier.undelivered.keep_redelivering(self.shared_cache),
                        name="keyguard-redelivery",
                    ),
                ]
            self.started = True

    async def stop(self) -> None:
        """Stop background work, write pending last-used times, close connections."""
        async with self._start_lock:
            if not self.started:
                return
            for task in self._background:
                task.cancel()
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            self._background = []
            await self.last_used.stop()
            if self.shared_cache is not None:
                await self.shared_cache.close()
            await self.store.close()
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


def _redis_cache(s: Settings) -> RedisKeyCache | None:
    if not s.redis_url:
        return None
    return RedisKeyCache.from_url(
        s.redis_url,
        timeout=s.redis_timeout,
        prefix=s.redis_prefix,
        ttl=s.redis_cache_ttl,
        negative_ttl=s.redis_negative_ttl,
    )
