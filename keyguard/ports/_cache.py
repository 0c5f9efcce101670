"""The shared cache port: records by digest, shared by every process, plus the invalidation
channel that tells every process to drop a digest from its in-process cache."""

from __future__ import annotations

import enum
from collections.abc import Callable
from typing import Protocol

from keyguard.core import KeyRecord

__all__ = ["CacheMiss", "SharedCache"]


class CacheMiss(enum.Enum):
    ABSENT = "absent"  # nothing cached: look in the store, then fill
    INVALIDATED = "invalidated"  # changed moments ago: look in the store, do not fill


class SharedCache(Protocol):
    """Every call fails within a short timeout of its own (`CacheUnavailableError`): the
    verifier adds none, since it runs on every miss."""

    async def get(self, digest: bytes) -> KeyRecord | CacheMiss | None:
        """The record, None for a cached "no such key", or why there is nothing to use."""

    async def put(self, digest: bytes, record: KeyRecord | None) -> None:
        """Cache a lookup result unless the digest was invalidated meanwhile."""

    async def invalidate(self, digest: bytes) -> None:
        """Drop the entry, block fills begun before now, and tell every process."""

    async def listen(
        self, on_invalidate: Callable[[bytes], None], on_resync: Callable[[], None]
    ) -> None:
        """Deliver invalidations until cancelled, reconnecting by itself; `on_resync` runs
        whenever some may have been lost (after a reconnect)."""

    async def close(self) -> None: ...
