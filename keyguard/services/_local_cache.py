"""The in-process cache: digest -> lookup result, bounded (LRU) and short-lived (TTL).

Its TTL (about a second) is what bounds staleness when no shared cache tells this process of
a change, e.g. several processes on one SQLite file; with Redis, invalidations arrive sooner.
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
        # Read directly by the verifier's hot path; written only through put/discard/clear.
        self.entries: OrderedDict[bytes, CachedLookup] = OrderedDict()

    def __len__(self) -> int:
        return len(self.entries)

    def get(self, digest: bytes) -> CachedLookup | None:
        entry = self.entries.get(digest)
        if entry is None:
            return None
        if entry.fresh_until <= self._clock():
            del self.entries[digest]
            return None
        self.entries.move_to_end(digest)
        return entry

    def put(self, digest: bytes, record: KeyRecord | None) -> None:
        if self.ttl == 0:
            return
        self.entries[digest] = CachedLookup.of(record, self._clock() + self.ttl)
        self.entries.move_to_end(digest)
        while len(self.entries) > self.max_entries:
            self.entries.popitem(last=False)

    def discard(self, digest: bytes) -> None:
        self.entries.pop(digest, None)

    def clear(self) -> None:
        self.entries.clear()
