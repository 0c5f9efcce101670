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
from collections import OrderedDict
from collections.abc import Callable

__all__ = ["ReplayMemory"]


class ReplayMemory:
    def __init__(
        self,
        *,
        window: float = 7 * 24 * 3600.0,
        max_entries: int = 100_000,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.window = window
        self.max_entries = max_entries
        self._clock = clock
        self._seen: OrderedDict[bytes, float] = OrderedDict()  # oldest first

    def claim(self, body: bytes) -> bytes | None:
        """The body's claim, or None when it was claimed within the window."""
        now = self._clock()
        self._expire(now)
        digest = hashlib.sha256(body).digest()
        if digest in self._seen:
            return None
        self._seen[digest] = now
        if len(self._seen) > self.max_entries:
            self._seen.popitem(last=False)
        return digest

    def release(self, claim: bytes) -> None:
        self._seen.pop(claim, None)

    def _expire(self, now: float) -> None:
        while self._seen:
            digest, at = next(iter(self._seen.items()))
            if now - at < self.window:
                return
            del self._seen[digest]
