"""The in-process cache: digest -> lookup result, bounded (LRU) and short-lived (TTL).

Changes arrive by key id (from the store's change log, or Redis), while entries are found by
digest: an index from key id to digests lets a change drop every entry of its key, under
whichever pepper's digest it was cached. The TTL (about a second) bounds what a change can
leave behind when no word of it arrives.
"""

from __future__ import annotations

import math
import time
from collections import OrderedDict
from collections.abc import Callable
from typing import NamedTuple

from keyguard.core import KeyRecord

__all__ = ["CachedLookup", "LocalCache"]


class CachedLookup(NamedTuple):
    fresh_until: float  # monotonic deadline of this entry
    record: KeyRecord | None  # None: no key has this digest
    usable: bool  # exists and is not revoked
    expires_at: float  # the key's own expiry, wall-clock seconds (inf: never)

    @classmethod
    def of(cls, record: KeyRecord | None, fresh_until: float) -> CachedLookup:
        if record is None:
            return cls(fresh_until, None, False, math.inf)
        expires = math.inf if record.expires_at is None else record.expires_at.timestamp()
        return cls(fresh_until, record, record.revoked_at is None, expires)

    def judge(self, now: float) -> KeyRecord | None:
        """The record if the key may be used at wall-clock time `now`, else None."""
        return self.record if self.usable and self.expires_at > now else None


class LocalCache:
    def __init__(
        self,
        *,
        ttl: float = 1.0,
        max_entries: int = 10_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        if ttl < 0 or max_entries < 1:
            raise ValueError("the local cache needs ttl >= 0 and max_entries >= 1")
        self.ttl = ttl
        self.max_entries = max_entries
        self._clock = clock
        # Read directly by the verifier's hot path; written only through the methods below.
        self.entries: OrderedDict[bytes, CachedLookup] = OrderedDict()
        self._digests_of: dict[str, set[bytes]] = {}  # key id -> digests holding its record

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, digest: bytes) -> CachedLookup | None:
        entry = self.entries.get(digest)
        if entry is None:
            return None
        if entry.fresh_until <= self._clock():
            self.discard(digest)
            return None
        self.entries.move_to_end(digest)
        return entry

    def put(
        self, digest: bytes, record: KeyRecord | None, fresh_until: float | None = None
    ) -> None:
        """Cache for the TTL, or until `fresh_until` (monotonic) if that comes first."""
        if self.ttl == 0:
            return
        deadline = self._clock() + self.ttl
        if fresh_until is not None and fresh_until < deadline:
            deadline = fresh_until
        self.discard(digest)
        self.entries[digest] = CachedLookup.of(record, deadline)
        if record is not None:
            self._digests_of.setdefault(record.id, set()).add(digest)
        while len(self.entries) > self.max_entries:
            self.discard(next(iter(self.entries)))

    def discard(self, digest: bytes) -> None:
        entry = self.entries.pop(digest, None)
        if entry is not None and entry.record is not None:
            digests = self._digests_of.get(entry.record.id)
            if digests is not None:
                digests.discard(digest)
                if not digests:
                    del self._digests_of[entry.record.id]

    def discard_key(self, key_id: str) -> set[bytes]:
        """Drop every entry of the key; the digests they were under."""
        digests = self._digests_of.pop(key_id, set())
        for digest in digests:
            self.entries.pop(digest, None)
        return digests

    def clear(self) -> None:
        self.entries.clear()
        self._digests_of.clear()
