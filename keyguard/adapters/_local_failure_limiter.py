"""Failed attempts counted in this process: the default, and the Redis limiter's fallback."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from keyguard.core import seconds_to_wait

__all__ = ["LocalFailureLimiter"]


class LocalFailureLimiter:
    def __init__(
        self,
        *,
        limit: int = 20,
        window: float = 60.0,
        max_clients: int = 100_000,
        clock: Callable[[], float] = time.time,
    ) -> None:
        self.limit = limit
        self.window = window
        self.max_clients = max_clients
        self._clock = clock
        # client -> (window index, failures in the previous window, in the current one)
        self._counts: OrderedDict[str, tuple[int, int, int]] = OrderedDict()

    def _counts_now(self, client: str, now: float) -> tuple[int, int, int]:
        index = int(now // self.window)
        got = self._counts.get(client)
        if got is None or got[0] < index - 1:
            return index, 0, 0
        if got[0] == index - 1:
            return index, got[2], 0
        return got

    def _wait(self, previous: int, current: int, now: float) -> float:
        return seconds_to_wait(previous, current, limit=self.limit, window=self.window, now=now)

    async def retry_after(self, client: str) -> float:
        now = self._clock()
        _, previous, current = self._counts_now(client, now)
        return self._wait(previous, current, now)

    async def record_failure(self, client: str) -> float:
        now = self._clock()
        index, previous, current = self._counts_now(client, now)
        self._counts[client] = (index, previous, current + 1)
        self._counts.move_to_end(client)
        while len(self._counts) > self.max_clients:
            self._counts.popitem(last=False)
        return self._wait(previous, current + 1, now)
