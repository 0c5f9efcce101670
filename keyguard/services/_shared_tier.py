"""The shared cache as the verifier uses it: shared, never trusted further than this process's
knowledge of changes reaches.

- Asked only while this process's view of the change log is recent (`synced` within
  `max_staleness`): an entry can vouch for a key only as far as this process would know of a
  change that made it stale. Past that, lookups go to the store.
- An entry older than a change this process heard of (`ChangeMemory`) is not used.
- Connection failures and timeouts open a circuit breaker; nothing else does (a bad entry
  touches only its own key, and the adapter already turned it into a miss).
- Repairs (tombstones for keys that changed) are written in the background, best effort: the
  change memory, not the repair, is what keeps a stale entry from being used.
"""

from __future__ import annotations

import asyncio
import logging
import math
from collections.abc import Iterable
from time import monotonic

from keyguard.core import CacheUnavailableError, KeyRecord
from keyguard.ports import CacheMiss, SharedCache, StoreChange

from ._change_memory import ChangeMemory
from ._circuit_breaker import CircuitBreaker
from ._tasks import stop_tasks

__all__ = ["SharedTier"]

logger = logging.getLogger(__name__)
_FAILURES = (CacheUnavailableError, TimeoutError)  # what the breaker counts


class SharedTier:
    def __init__(
        self, cache: SharedCache | None, *, memory: ChangeMemory, max_staleness: float
    ) -> None:
        self.cache = cache
        self.memory = memory
        self.max_staleness = max_staleness
        self.breaker = CircuitBreaker("the shared cache")
        self.trusted_until = -math.inf  # monotonic; moved on by every read of the change log
        self.lookups = 0  # counts, for tests and metrics; never timings
        self._repairs: set[bytes] = set()
        self._repairing: asyncio.Task[None] | None = None

    def synced(self, at: float) -> None:
        """This process knows of every change committed before `at` (monotonic)."""
        self.trusted_until = at + self.max_staleness

    def usable(self) -> bool:
        return self.cache is not None and self.breaker.allows()

    async def get(self, digest: bytes) -> KeyRecord | CacheMiss | None:
        """A record or "no such key" the shared cache may vouch for, else why not."""
        if self.cache is None or not self.breaker.allows():
            return CacheMiss.NOT_ASKED
        if monotonic() >= self.trusted_until:
            return CacheMiss.ABSENT  # not asked: the store answers, and its answer may fill
        try:
            self.lookups += 1
            # No asyncio timeout here: a timer per miss costs more than the call's own checks,
            # and the port requires each call to time out by itself (Redis: socket_timeout).
            found = await self.cache.get(digest)
        except Exception as exc:
            self._failed(exc)
            return CacheMiss.NOT_ASKED
        self.breaker.success()
        if monotonic() >= self.trusted_until:
            return CacheMiss.ABSENT  # the answer came too late to be believed
        if isinstance(found, KeyRecord) and self.memory.outdated(found):
            self.repair([digest])
            return CacheMiss.INVALIDATED
        return found

    async def put(self, digest: bytes, record: KeyRecord | None) -> None:
        assert self.cache is not None
        try:
            await self.cache.put(digest, record)
        except Exception as exc:
            self._failed(exc)

    async def invalidate(self, digests: Iterable[bytes], change: StoreChange) -> None:
        """Tombstone and tell every process now; raises `CacheUnavailableError` if Redis did
        not take it (the others then learn of it from the store's change log)."""
        if self.cache is None:
            return
        if not self.breaker.allows():  # known to be down: do not make the change wait on it
            raise CacheUnavailableError("the shared cache is not being asked for now")
        try:
            await self.cache.invalidate(digests, change)
        except Exception as exc:
            self._failed(exc)
            raise

    def repair(self, digests: Iterable[bytes]) -> None:
        """Tombstone these digests soon, in the background."""
        if self.cache is None:
            return
        self._repairs.update(digests)
        if self._repairs and (self._repairing is None or self._repairing.done()):
            self._repairing = asyncio.get_running_loop().create_task(
                self._repair(), name="keyguard-shared-cache-repair"
            )

    async def _repair(self) -> None:
        assert self.cache is not None
        while self._repairs and self.breaker.allows():
            digests, self._repairs = self._repairs, set()
            try:
                await self.cache.invalidate(digests, None)
            except Exception as exc:
                logger.debug("shared-cache repair not written: %s", type(exc).__name__)
                self._failed(exc)
        self._repairs.clear()  # Redis unreachable: the change memory covers what is left

    async def close(self) -> None:
        await stop_tasks([self._repairing])
        self._repairing = None

    def _failed(self, exc: BaseException) -> None:
        if isinstance(exc, _FAILURES):
            logger.debug("shared cache call failed: %s", type(exc).__name__)
            self.breaker.failure()
        else:
            logger.error("shared cache call failed unexpectedly: %s", type(exc).__name__)
