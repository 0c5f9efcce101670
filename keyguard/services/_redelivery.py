"""Invalidations the shared cache missed (Redis unreachable when a key changed), retried
until they land or until the stale entry has expired by itself.

Until then the verifier does not trust the shared cache for those digests: a partition heals
with Redis still holding the old entry, and it must not come back as valid.
"""

from __future__ import annotations

import asyncio
from time import monotonic

from keyguard.core import CacheUnavailableError
from keyguard.ports import SharedCache

__all__ = ["Undelivered"]


class Undelivered:
    def __init__(self, *, entry_ttl: float) -> None:
        self.entry_ttl = entry_ttl  # how long a stale entry can live in the shared cache
        self._deadlines: dict[bytes, float] = {}

    def __contains__(self, digest: bytes) -> bool:
        return digest in self._deadlines

    def __len__(self) -> int:
        return len(self._deadlines)

    def add(self, digest: bytes) -> None:
        self._deadlines[digest] = monotonic() + self.entry_ttl

    async def redeliver(self, shared: SharedCache) -> None:
        """Retry each one; forget those whose entry has expired anyway."""
        for digest, deadline in list(self._deadlines.items()):
            if deadline > monotonic():
                try:
                    await shared.invalidate(digest)
                except CacheUnavailableError:
                    return  # still unreachable: the next round tries again
            del self._deadlines[digest]

    async def keep_redelivering(self, shared: SharedCache, interval: float = 0.25) -> None:
        while True:
            await asyncio.sleep(interval)
            if self._deadlines:
                await self.redeliver(shared)
