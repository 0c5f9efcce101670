"""Failed attempts counted in Redis, so every process sees one client's failures together.

Taking a slot is one script, so the check and the count are atomic across processes. Every
attempt is counted in this process too, so the limit holds here even while Redis fails part
way through a burst; when Redis cannot answer, this process's count alone decides (said once
in the log per outage, and Redis is not asked again for a few seconds): a dead Redis neither
lets a guesser through unlimited nor locks out anyone.

A client's two windows are `<prefix>failures:{<client, hex>}:<window>`: the script reads both,
and in a Redis Cluster keys of one script must share a slot, which the hash tag `{...}` gives
them. The client is hex-encoded so a `{` or `}` in it cannot end the tag early.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Awaitable, Callable
from typing import TypeVar

from keyguard.core import seconds_to_wait
from keyguard.ports import Slot

from ._local_failure_limiter import LocalFailureLimiter
from ._redis import KEY_PREFIX, REDIS_FAILURES, RedisClient
from ._redis_cluster import run_script

__all__ = ["FAILURES_KEY", "RedisFailureLimiter"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
FAILURES_KEY = "failures:"  # under the prefix: keyguard:failures:{<client hex>}:<window>
_RETRY_REDIS_AFTER = 5.0  # seconds counted in-process after Redis failed, before asking again
# KEYS: previous window, current window. ARGV: limit, share of the window elapsed, ttl (ms).
_ACQUIRE = """
local previous = tonumber(redis.call('GET', KEYS[1]) or '0')
local current = tonumber(redis.call('GET', KEYS[2]) or '0')
if previous * (1 - tonumber(ARGV[2])) + current >= tonumber(ARGV[1]) then
    return {0, previous, current}
end
current = redis.call('INCR', KEYS[2])
redis.call('PEXPIRE', KEYS[2], ARGV[3])
return {1, previous, current}
"""
_RELEASE = """
if tonumber(redis.call('GET', KEYS[1]) or '0') > 0 then redis.call('DECR', KEYS[1]) end
"""


class RedisFailureLimiter:
    def __init__(
        self,
        client: RedisClient,
        *,
        limit: int = 20,
        window: float = 60.0,
        prefix: str = KEY_PREFIX,
        clock: Callable[[], float] = time.time,
        gate: asyncio.Semaphore | None = None,
    ) -> None:
        self.client = client
        self._gate = gate or asyncio.Semaphore(50)  # at most this many calls in flight
        self.limit = limit
        self.window = window
        self.prefix = prefix + FAILURES_KEY
        self.local = LocalFailureLimiter(limit=limit, window=window, clock=clock)
        self._clock = clock
        self._acquire = client.register_script(_ACQUIRE)
        self._release = client.register_script(_RELEASE)
        self._redis_down_until = 0.0  # monotonic

    def _key(self, client: str, index: int) -> str:
        return f"{self.prefix}{{{client.encode(errors='surrogatepass').hex()}}}:{index}"

    def _wait(self, previous: int, current: int, now: float) -> float:
        return seconds_to_wait(previous, current, limit=self.limit, window=self.window, now=now)

    async def _shared(self, call: Callable[[], Awaitable[T]]) -> T | None:
        """`call()` against Redis, or None when Redis is (recently) unreachable or answered
        something unusable: this process's count decides then, never an exception."""
        if time.monotonic() < self._redis_down_until:
            return None
        try:
            async with self._gate:
                result = await call()
        except Exception as exc:
            if not isinstance(exc, REDIS_FAILURES):
                logger.error("the shared failure count failed: %s", type(exc).__name__)
            elif not self._redis_down_until:
                logger.warning(
                    "failed-attempt limits are counted in this process: Redis failed (%s)",
                    type(exc).__name__,
                )
            self._redis_down_until = time.monotonic() + _RETRY_REDIS_AFTER
            return None
        if self._redis_down_until:
            logger.info("failed-attempt limits are shared through Redis again")
            self._redis_down_until = 0.0
        return result

    async def acquire(self, client: str) -> Slot | float:
        here = await self.local.acquire(client)
        if not isinstance(here, Slot):
            return here  # over the limit in this process alone
        now = self._clock()
        keys = [self._key(client, here.window - 1), self._key(client, here.window)]
        args = [self.limit, (now % self.window) / self.window, int(self.window * 2000)]

        async def take() -> tuple[int, int, int]:
            admitted, previous, current = await run_script(self.client, self._acquire, keys, args)
            return int(admitted), int(previous), int(current)

        try:
            got = await self._shared(take)
        except BaseException:  # cancelled while Redis answered: this slot was never used
            await self.local.release(here)
            raise
        if got is None:
            return here
        admitted, previous, current = got
        if admitted:
            return here._replace(shared=True)
        await self.local.release(here)
        return self._wait(previous, current, now)

    async def release(self, slot: Slot) -> None:
        await self.local.release(slot)
        if slot.shared:
            key = self._key(slot.client, slot.window)
            await self._shared(lambda: run_script(self.client, self._release, [key], []))

    async def record_failure(self, client: str) -> float:
        wait_here = await self.local.record_failure(client)
        now = self._clock()
        index = int(now // self.window)
        previous_key, current_key = self._key(client, index - 1), self._key(client, index)

        async def count() -> tuple[int, int]:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.get(previous_key)
                pipe.incr(current_key)
                pipe.pexpire(current_key, int(self.window * 2000))
                previous, current, _ = await pipe.execute()
            return int(previous or 0), int(current)

        got = await self._shared(count)
        if got is None:
            return wait_here
        return max(wait_here, self._wait(*got, now))
