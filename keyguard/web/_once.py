"""`OnceOnly`: the things (form nonces, signed reports) that may be used once, remembered in
this process, the oldest forgotten first, and given back when what used one failed in a way a
retry may fix."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Hashable

__all__ = ["OnceOnly"]


class OnceOnly:
    def __init__(
        self,
        *,
        max_entries: int,
        window: float | None = None,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.max_entries = max_entries
        self.window = window  # None: until `max_entries` newer ones push it out
        self._clock = clock
        self._used: OrderedDict[Hashable, float] = OrderedDict()  # oldest first

    def first_use(self, token: Hashable) -> bool:
        """True the first time `token` is used; False while it is remembered."""
        now = self._clock()
        self._expire(now)
        if token in self._used:
            return False
        self._used[token] = now
        if len(self._used) > self.max_entries:
            self._used.popitem(last=False)
        return True

    def give_back(self, token: Hashable) -> None:
        self._used.pop(token, None)

    def _expire(self, now: float) -> None:
        if self.window is None:
            return
        while self._used:
            token, at = next(iter(self._used.items()))
            if now - at < self.window:
                return
            del self._used[token]
