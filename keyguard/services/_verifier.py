"""The hot path: is this key valid, and whose is it?

format and checksum -> keyed digest -> in-process cache -> shared cache (Redis) -> store.
A local hit costs no I/O and no await. A miss starts at most one fill per digest per process;
concurrent requests for the same key wait for it. Every change heard of (from this process's
manager or from the invalidation channel) drops the digest and bumps an epoch, and a fill that
saw the epoch move does not cache what it read: it may predate the change.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Sequence
from time import monotonic
from typing import NamedTuple

from keyguard.core import (
    CacheUnavailableError,
    KeyFormat,
    KeyHasher,
    KeyRecord,
    StoreUnavailableError,
)
from keyguard.ports import CacheMiss, KeyStore, SharedCache

from ._circuit_breaker import CircuitBreaker
from ._last_used import LastUsedRecorder
from ._lifecycle import KeyChange
from ._local_cache import CachedLookup, LocalCache
from ._redelivery import Undelivered

__all__ = ["KeyVerifier", "Miss", "Verdict"]

logger = logging.getLogger(__name__)
# A corrupt entry (bad JSON, missing fields) is a cache failure too: the store still answers.
_SHARED_ERRORS = (CacheUnavailableError, TimeoutError, ValueError, KeyError, TypeError)


_RETRY = object()  # a cancelled load's answer to its waiters: load again yourselves


class Verdict(enum.Enum):
    INVALID = "invalid"  # malformed, unknown, revoked or expired: 401
    UNAVAILABLE = "unavailable"  # the stores cannot say: 503, never 200


class Miss(NamedTuple):
    """Not in the local cache: `fill(digest, token)` finds out."""

    digest: bytes
    token: str  # for digests under previous peppers; dropped with the request


class KeyVerifier:
    def __init__(
        self,
        store: KeyStore,
        *,
        hasher: KeyHasher,
        previous_hashers: Sequence[KeyHasher] = (),
        key_format: KeyFormat | None = None,
        local_cache: LocalCache | None = None,
        shared_cache: SharedCache | None = None,
        shared_entry_ttl: float = 60.0,
        last_used: LastUsedRecorder | None = None,
    ) -> None:
        self.store = store
        self.hasher = hasher
        self.previous_hashers = tuple(previous_hashers)  # peppers being retired, newest first
        self.key_format = key_format or KeyFormat()
        # Not `or`: an empty LocalCache is falsy (it has __len__).
        self.local = local_cache if local_cache is not None else LocalCache()
        self.shared = shared_cache
        self.undelivered = Undelivered(entry_ttl=shared_entry_ttl)
        self.breaker = CircuitBreaker("the shared cache")
        self.last_used = last_used
        self.store_lookups = 0  # counts, for tests and metrics; never timings
        self.shared_lookups = 0
        self._epoch = 0
        self._entries = self.local.entries
        self._last_used_times = None if last_used is None else last_used.pending_times
        self._fills: dict[bytes, asyncio.Future[object]] = {}

    def cached(self, digest: bytes) -> KeyRecord | None:
        """The hot path: a usable key in the local cache under `digest`, or None for anything
        else (miss, stale, unknown, revoked, expired), which `check_cached` then sorts out.

        It leaves the entry's LRU position alone: fills, at least one per TTL for a key in use,
        keep recency, and a move per hit would cost more than it saves.
        """
        entry = self._entries.get(digest)
        if entry is None or not entry.usable or entry.fresh_until <= monotonic():
            return None
        now = time.time()
        if entry.expires_at <= now:
            return None
        record = entry.record
        if self._last_used_times is not None:
            self._last_used_times[record.id] = now  # type: ignore[union-attr]
        return record

    def check_cached(self, token: str) -> KeyRecord | Verdict | Miss:
        """Everything that needs no I/O: format and checksum, digest, local cache.

        (The middleware's cache-first path, `cached`, skips the format check: a digest that
        matches a stored key's proves the token is that key.)
        """
        if not self.key_format.is_well_formed(token):
            # Garbage is never cached, so this answer needs neither the digest nor the cache.
            return Verdict.INVALID
        digest = self.hasher.digest(token)
        entry = self.local.get(digest)
        if entry is None:
            return Miss(digest, token)
        return self._judge(entry)

    async def verify(self, token: str) -> KeyRecord | Verdict:
        result = self.check_cached(token)
        if isinstance(result, Miss):
            return await self.fill(result.digest, result.token)
        return result

    def _judge(self, entry: CachedLookup) -> KeyRecord | Verdict:
        now = time.time()
        record = entry.judge(now)
        if record is None:
            return Verdict.INVALID
        if self.last_used is not None:
            self.last_used.touch(record.id, now)
        return record

    async def fill(self, digest: bytes, token: str | None = None) -> KeyRecord | Verdict:
        """Find out about a digest the local cache does not hold: one load per digest at a time.

        The first caller loads inline (no Task: this is every miss's path); callers that come
        while it runs wait on its Future, shielded so that a waiter that hangs up cannot cancel
        it. If the loader itself is cancelled, its waiters start over rather than fail.
        """
        while (pending := self._fills.get(digest)) is not None:
            found = await asyncio.shield(pending)
            if found is not _RETRY:
                return self._verdict(found)
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._fills[digest] = future
        try:
            found = await self._load(digest, token)
        except BaseException:
            future.set_result(_RETRY)
            raise
        else:
            future.set_result(found)
        finally:
            if self._fills.get(digest) is future:  # not replaced after a `forget`
                del self._fills[digest]
        return self._verdict(found)

    def _verdict(self, found: object) -> KeyRecord | Verdict:
        if isinstance(found, Verdict):
            return found
        return self._judge(CachedLookup.of(found, 0.0))  # type: ignore[arg-type]

    async def _load(self, digest: bytes, token: str | None) -> KeyRecord | Verdict | None:
        epoch = self._epoch
        shared = await self._from_shared(digest)
        if not isinstance(shared, CacheMiss):
            self._remember(digest, shared, epoch)
            return shared
        try:
            self.store_lookups += 1
            record = await self.store.find_by_digest(digest)
            if record is None and token is not None and self.previous_hashers:
                record = await self._find_under_previous_peppers(digest, token)
        except StoreUnavailableError as exc:
            logger.warning("key store unavailable: %s", exc)
            return Verdict.UNAVAILABLE
        except Exception:
            # Whatever went wrong, the key was not checked: 503, never 200, never a crash.
            logger.exception("key lookup failed")
            return Verdict.UNAVAILABLE
        if shared is CacheMiss.ABSENT and self._epoch == epoch:
            await self._to_shared(digest, record)
        self._remember(digest, record, epoch)
        return record

    async def _find_under_previous_peppers(self, digest: bytes, token: str) -> KeyRecord | None:
        """A key minted before the pepper changed: found under an old digest, then moved to
        the current one, so this costs its extra lookups once."""
        for hasher in self.previous_hashers:
            old = hasher.digest(token)
            self.store_lookups += 1
            record = await self.store.find_by_digest(old)
            if record is not None:
                await self.store.rehash(record.id, old, digest, self.hasher.version)
                return record
        return None

    def _remember(self, digest: bytes, record: KeyRecord | None, epoch: int) -> None:
        if self._epoch == epoch:  # else a change arrived mid-fill: what we read may be stale
            self.local.put(digest, record)

    async def _from_shared(self, digest: bytes) -> KeyRecord | CacheMiss | None:
        if self.shared is None or not self.breaker.allows() or digest in self.undelivered:
            return CacheMiss.INVALIDATED  # go to the store, and do not fill
        try:
            self.shared_lookups += 1
            # No asyncio timeout here: a timer per miss costs more than the call's own checks,
            # and the port requires each call to time out by itself (Redis: socket_timeout).
            found = await self.shared.get(digest)
        except _SHARED_ERRORS as exc:
            self._shared_failed(exc)
            return CacheMiss.INVALIDATED
        self.breaker.success()
        return found

    async def _to_shared(self, digest: bytes, record: KeyRecord | None) -> None:
        assert self.shared is not None
        try:
            await self.shared.put(digest, record)
        except _SHARED_ERRORS as exc:
            self._shared_failed(exc)

    def _shared_failed(self, exc: BaseException) -> None:
        logger.debug("shared cache call failed: %s", type(exc).__name__)
        self.breaker.failure()

    def forget(self, digest: bytes) -> None:
        """Drop a digest everywhere in this process: cache, pending fill, and any fill's claim."""
        self._epoch += 1
        self.local.discard(digest)
        self._fills.pop(digest, None)

    def forget_all(self) -> None:
        self._epoch += 1
        self.local.clear()
        self._fills.clear()

    async def on_key_change(self, change: KeyChange) -> None:
        """The manager's listener: this process at once, then every other through the cache."""
        self.forget(change.digest)
        if self.shared is None:
            return
        try:
            await self.shared.invalidate(change.digest)
        except Exception:
            # The shared cache still holds the old entry: not trusted here until it is told.
            self.undelivered.add(change.digest)
            raise
        finally:
            # A lookup that began before the tombstone landed may have read the old entry
            # from the shared cache and cached it here: drop it, and void fills in flight.
            self.forget(change.digest)
