"""The changes this process has heard of, kept as long as a shared-cache entry written before
them could still be read: such an entry (its version older than the change) is never used.

This is what makes a stale entry harmless however it got there: a process that could not reach
Redis to tombstone it, a fill that read the store just before the change, or a copy saved
earlier and written back by someone with access to Redis.
"""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from keyguard.core import KeyRecord

__all__ = ["ChangeMemory"]


class ChangeMemory:
    def __init__(self, *, keep_for: float, clock: Callable[[], float] = time.monotonic) -> None:
        self.keep_for = keep_for
        self._clock = clock
        # key id -> (newest version heard of, when it may be forgotten), oldest first
        self._versions: OrderedDict[str, tuple[int, float]] = OrderedDict()

    def __len__(self) -> int:
        return len(self._versions)

    def learn(self, key_id: str, version: int) -> bool:
        """Remember the change; False if it was known already (heard of by another path)."""
        self.forget_old()
        known = self._versions.get(key_id)
        if known is not None and known[0] >= version:
            return False
        self._versions[key_id] = (version, self._clock() + self.keep_for)
        self._versions.move_to_end(key_id)
        return True

    def outdated(self, record: KeyRecord) -> bool:
        """Is this copy older than a change heard of?"""
        known = self._versions.get(record.id)
        return known is not None and record.version < known[0]

    def forget_old(self) -> None:
        now = self._clock()
        versions = self._versions
        while versions:
            _, (_, until) = next(iter(versions.items()))
            if until > now:
                return
            versions.popitem(last=False)
