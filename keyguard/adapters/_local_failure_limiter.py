"""Failed attempts counted in this process: the default without Redis, and the Redis limiter's
fallback. Taking a slot is one synchronous step (no await between the check and the count), so
concurrent requests cannot all pass the check before any is counted."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable

from keyguard.core import seconds_to_wait
from keyguard.ports import Slot

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

    def _count(self, client: str, counts: tuple[int, int, int]) -> None:
        self._counts[client] = counts
        self._counts.move_to_end(client)
        while len(self._counts) > self.max_clients:
            self._counts.popitem(last=False)

    async def acquire(self, client: str) -> Slot | float:
        now = self._clock()
        index, previous, current = self._counts_now(client, now)
        wait = self._wait(previous, current, now)
        if wait:
            return wait
        self._count(client, (index, previous, current + 1))
        return Slot(client, index)

    async def release(self, slot: Slot) -> None:
        index, previous, current = self._counts_now(slot.client, self._clock())
        if slot.window == index and current:
            self._count(slot.client, (index, previous, current - 1))
        elif slot.window == index - 1 and previous:
            self._count(slot.client, (index, previous - 1, current))

    async def record_failure(self, client: str) -> float:
        now = self._clock()
        index, previous, current = self._counts_now(client, now)
        self._count(client, (index, previous, current + 1))
        return self._wait(previous, current + 1, now)
