"""The hot path: is this key valid, and whose is it?

format and checksum -> keyed digest -> in-process cache -> shared cache (Redis) -> store.
A local hit costs no I/O and no await. A miss starts at most one fill per digest per process;
concurrent requests for the same key wait for it. Every change heard of (from this process's
manager, the store's change log or the shared cache's channel) drops the key's entries, and a
fill of one of its digests that began before it does not cache what it read: it may predate
the change. Fills of other keys go on as before.
"""

from __future__ import annotations

import asyncio
import enum
import logging
import time
from collections.abc import Sequence
from time import monotonic
from typing import NamedTuple, Protocol

from keyguard.core import KeyFormat, KeyHasher, KeyRecord, StoreUnavailableError
from keyguard.ports import CacheMiss, KeyStore, Observer, SharedCache, StoreChange

from ._change_memory import ChangeMemory
from ._hook_failures import hook_failed
from ._last_used import LastUsedRecorder
from ._lifecycle import KeyChange
from ._local_cache import CachedLookup, LocalCache
from ._shared_tier import SharedTier

__all__ = ["MEMORY_MARGIN", "KeyVerifier", "Miss", "StoreAdmission", "Verdict"]

logger = logging.getLogger(__name__)
# Beyond the shared entries' own lifetime, how long a change is remembered: covers clocks that
# disagree between hosts and fills that write a while after they read.
MEMORY_MARGIN = 60.0
_RETRY = object()  # a load's answer to its waiters when they must load themselves


class Verdict(enum.Enum):
    INVALID = "invalid"  # malformed, unknown, revoked or expired: 401
    UNAVAILABLE = "unavailable"  # the stores cannot say: 503, never 200
    LIMITED = "limited"  # the store would have been asked, but the caller may not ask now: 429


class Miss(NamedTuple):
    """Not in the local cache: `fill(digest, token)` finds out."""

    digest: bytes
    token: str  # for digests under previous peppers; dropped with the request


class StoreAdmission(Protocol):
    async def admit(self) -> bool:
        """May this fill ask the store? Called once, only when no cache could answer."""


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
        max_staleness: float = 1.0,
        last_used: LastUsedRecorder | None = None,
        observer: Observer | None = None,
    ) -> None:
        self.store = store
        self.hasher = hasher
        self.previous_hashers = tuple(previous_hashers)  # peppers being retired, newest first
        self.key_format = key_format or KeyFormat()
        # Not `or`: an empty LocalCache is falsy (it has __len__).
        self.local = local_cache if local_cache is not None else LocalCache()
        self.memory = ChangeMemory(keep_for=shared_entry_ttl + MEMORY_MARGIN)
        self.shared = SharedTier(shared_cache, memory=self.memory, max_staleness=max_staleness)
        self.last_used = last_used
        self.observer = observer
        self.store_lookups = 0  # counts, for tests and metrics; never timings
        self._epoch = 0  # counts changes heard of
        self._touched: dict[bytes, int] = {}  # digest -> the epoch of its last change
        self._loading = 0  # fills in flight: `_touched` matters only while there are some
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
        if self.observer is not None:
            self._answered("local")
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

    async def fill(
        self, digest: bytes, token: str | None = None, admission: StoreAdmission | None = None
    ) -> KeyRecord | Verdict:
        """Find out about a digest the local cache does not hold: one load per digest at a time.

        The first caller loads inline (no Task: this is every miss's path); callers that come
        while it runs wait on its Future, shielded so that a waiter that hangs up cannot cancel
        it. If the loader is cancelled, or may not ask the store, its waiters start over.
        """
        while (pending := self._fills.get(digest)) is not None:
            found = await asyncio.shield(pending)
            if found is not _RETRY:
                return self._verdict(found)
        future: asyncio.Future[object] = asyncio.get_running_loop().create_future()
        self._fills[digest] = future
        self._loading += 1
        try:
            found = await self._load(digest, token, admission)
        except BaseException:
            future.set_result(_RETRY)
            raise
        else:
            future.set_result(_RETRY if found is Verdict.LIMITED else found)
        finally:
            if self._fills.get(digest) is future:  # not dropped after a change
                del self._fills[digest]
            self._loading -= 1
            if not self._loading:
                self._touched.clear()
        return self._verdict(found)

    def _verdict(self, found: object) -> KeyRecord | Verdict:
        if isinstance(found, Verdict):
            return found
        return self._judge(CachedLookup.of(found, 0.0))  # type: ignore[arg-type]

    async def _load(
        self, digest: bytes, token: str | None, admission: StoreAdmission | None
    ) -> KeyRecord | Verdict | None:
        epoch = self._epoch
        shared = await self.shared.get(digest)
        if not isinstance(shared, CacheMiss):
            if self.observer is not None:
                self._answered("redis")
            self._remember(digest, shared, epoch, self.shared.trusted_until)
            return shared
        if admission is not None and not await admission.admit():
            return Verdict.LIMITED
        read_at = monotonic()
        try:
            record = await self._from_store(digest, token)
        except StoreUnavailableError as exc:
            logger.warning("key store unavailable: %s", exc)
            return Verdict.UNAVAILABLE
        except Exception:
            # Whatever went wrong, the key was not checked: 503, never 200, never a crash.
            logger.exception("key lookup failed")
            return Verdict.UNAVAILABLE
        if self.observer is not None:
            self._answered("store")
        if shared is CacheMiss.ABSENT and self._unchanged(digest, epoch):
            await self.shared.put(digest, record)
        self._remember(digest, record, epoch, read_at + self.local.ttl)
        return record

    async def _from_store(self, digest: bytes, token: str | None) -> KeyRecord | None:
        self.store_lookups += 1
        record = await self.store.find_by_digest(digest)
        if record is None and token is not None and self.previous_hashers:
            record = await self._find_under_previous_peppers(digest, token)
        return record

    async def _find_under_previous_peppers(self, digest: bytes, token: str) -> KeyRecord | None:
        """A key minted before the pepper changed: found under an old digest, then moved to
        the current one, so this costs its extra lookups once. The answer is the record as
        the move left it, so a revoke that committed meanwhile is not missed."""
        for hasher in self.previous_hashers:
            old = hasher.digest(token)
            self.store_lookups += 1
            record = await self.store.find_by_digest(old)
            if record is not None:
                moved = await self.store.rehash(record.id, old, digest, self.hasher.version)
                if moved is None:  # moved by another process meanwhile: read where it went
                    self.store_lookups += 1
                    return await self.store.find_by_digest(digest)
                return moved
        return None

    def _answered(self, tier: str) -> None:
        try:
            self.observer.answered(tier)  # type: ignore[union-attr]
        except Exception:
            hook_failed("answered")

    def _unchanged(self, digest: bytes, epoch: int) -> bool:
        """Has no change touched `digest` since `epoch` (when a fill of it began)?"""
        return self._touched.get(digest, -1) <= epoch

    def _remember(
        self, digest: bytes, record: KeyRecord | None, epoch: int, fresh_until: float
    ) -> None:
        if self._unchanged(digest, epoch):  # else what was read may predate the change
            self.local.put(digest, record, fresh_until)

    def forget(self, *digests: bytes) -> None:
        """Drop digests in this process: their cache entries, and fills of them in flight
        (which will not cache what they read, and which new requests will not join)."""
        self._epoch += 1
        for digest in digests:
            self.local.discard(digest)
            self._fills.pop(digest, None)
            self._touched[digest] = self._epoch

    def learn(self, change: StoreChange, path: str = "log") -> list[bytes]:
        """A change heard of (through `path`: "log", "redis" or "local"): drop every copy of
        the key here (under any digest), remember it against stale shared entries; the digests
        dropped. A change heard of already (by another path, or replayed) changes nothing: its
        copies went when it was first heard."""
        if not self.memory.learn(change.key_id, change.seq):
            return []
        digests = [change.digest, *self.local.discard_key(change.key_id)]
        self.forget(*digests)
        if self.observer is not None:  # only once the copies are gone, whatever it does
            lag = None if change.at is None else max(0.0, time.time() - change.at)
            try:
                self.observer.change_applied(lag, path)
            except Exception:
                hook_failed("change_applied")
        return digests

    def on_shared_change(self, change: StoreChange) -> None:
        """From the shared cache's channel: the fast path (its sender tombstoned already)."""
        self.learn(change, "redis")

    def on_store_changes(self, changes: Sequence[StoreChange]) -> None:
        """From the change log: applied here at once, then repaired in the shared cache (the
        process that made the change may not have reached it)."""
        digests: list[bytes] = []
        for change in changes:
            digests.extend(self.learn(change))
        self.shared.repair(digests)

    async def on_key_change(self, change: KeyChange) -> None:
        """The manager's listener: this process at once, then every other through the cache.
        Raises if the shared cache could not be told: the others still learn of it from the
        store's change log, within the bound."""
        logged = StoreChange(
            change.version, change.key_id, change.digest, change.event.value, time.time()
        )
        digests = self.learn(logged, "local") or [change.digest]  # the log may have told us first
        await self.shared.invalidate(digests, logged)
