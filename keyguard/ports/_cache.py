"""The shared cache port: records by digest, shared by every process, plus a channel that tells
every process of a change at once (the fast path; the store's change log is the truth).

A shared cache is not trusted: an implementation authenticates what it reads back and turns
anything it cannot vouch for into a miss.
"""

from __future__ import annotations

import enum
from collections.abc import Callable, Iterable
from typing import Protocol

from keyguard.core import KeyRecord

from ._store import StoreChange

__all__ = ["CacheMiss", "SharedCache"]


class CacheMiss(enum.Enum):
    ABSENT = "absent"  # nothing usable cached: look in the store, then fill
    INVALIDATED = "invalidated"  # changed moments ago: look in the store, do not fill
    NOT_ASKED = "not_asked"  # no shared cache, or it is failing: the store, and do not fill


class SharedCache(Protocol):
    """Every call fails within a short timeout of its own (`CacheUnavailableError`): the
    verifier adds none, since it runs on every miss. Nothing else may escape a call."""

    # Is `listen` subscribed now (its notices arriving)? For a gauge: the fast path is live.
    listening: bool

    async def get(self, digest: bytes) -> KeyRecord | CacheMiss | None:
        """The record, None for a cached "no such key", or why there is nothing to use."""

    async def put(self, digest: bytes, record: KeyRecord | None) -> None:
        """Cache a lookup result unless the digest was invalidated meanwhile."""

    async def invalidate(self, digests: Iterable[bytes], change: StoreChange | None) -> None:
        """Drop the entries, block fills begun before now, and tell every process of `change`."""

    async def listen(self, on_change: Callable[[StoreChange], None]) -> None:
        """Deliver changes until cancelled, reconnecting by itself."""

    async def ping(self) -> None:
        """Answer, or raise `CacheUnavailableError`: for readiness checks."""

    async def close(self) -> None: ...
