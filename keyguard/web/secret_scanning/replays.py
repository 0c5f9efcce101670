"""Reports already acted on, so that a captured report sent again is refused.

Keyed by the SHA-256 of the body, not of the signature: an ECDSA signature can be altered
into another valid one for the same body. A report is claimed while it is handled and
forgotten if handling fails, so GitHub's retry of a report we could not act on goes through.
Per process: a replay that reaches another process finds its keys revoked already, and
revoking is one-way, so it changes nothing there either.
"""

from __future__ import annotations

import hashlib
import time
from collections.abc import Callable

from .._once import OnceOnly

__all__ = ["ReplayMemory"]


class ReplayMemory:
    def __init__(
        self,
        *,
        window: float = 7 * 24 * 3600.0,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self._seen = OnceOnly(max_entries=max_entries, window=window, clock=clock)

    def claim(self, body: bytes) -> bytes | None:
        """The body's claim, or None when it was claimed within the window."""
        digest = hashlib.sha256(body).digest()
        return digest if self._seen.first_use(digest) else None

    def release(self, claim: bytes) -> None:
        self._seen.give_back(claim)
