"""Failed attempts counted in Redis, so every process sees one client's failures together.

When Redis cannot answer, the in-process limiter takes over: a dead Redis neither lets a
guesser through unlimited nor locks out anyone.
"""

from __future__ import annotations

import logging
import time

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from keyguard.core import seconds_to_wait

from ._local_failure_limiter import LocalFailureLimiter
from ._redis import KEY_PREFIX

__all__ = ["RedisFailureLimiter"]

logger = logging.getLogger(__name__)


class RedisFailureLimiter:
    def __init__(
        self,
        client: aioredis.Redis,
        *,
        limit: int = 20,
        window: float = 60.0,
        prefix: str = KEY_PREFIX,
    ) -> None:
        self.client = client
        self.limit = limit
        self.window = window
        self.prefix = prefix + "failures:"
        self.fallback = LocalFailureLimiter(limit=limit, window=window)

    def _keys(self, client: str, now: float) -> tuple[str, str]:
        index = int(now // self.window)
        return f"{self.prefix}{client}:{index - 1}", f"{self.prefix}{client}:{index}"

    def _wait(self, previous: int, current: int, now: float) -> float:
        return seconds_to_wait(previous, current, limit=self.limit, window=self.window, now=now)

    async def retry_after(self, client: str) -> float:
        now = time.time()
        try:
            previous, current = await self.client.mget(self._keys(client, now))
        except (RedisError, OSError) as exc:
            logger.debug("failure limiter falls back to this process: %s", type(exc).__name__)
            return await self.fallback.retry_after(client)
        return self._wait(int(previous or 0), int(current or 0), now)

    async def record_failure(self, client: str) -> float:
        now = time.time()
        previous_key, current_key = self._keys(client, now)
        try:
            async with self.client.pipeline(transaction=False) as pipe:
                pipe.get(previous_key)
                pipe.incr(current_key)
                pipe.pexpire(current_key, int(self.window * 2000))
                previous, current, _ = await pipe.execute()
        except (RedisError, OSError) as exc:
            logger.debug("failure limiter falls back to this process: %s", type(exc).__name__)
            return await self.fallback.record_failure(client)
        return self._wait(int(previous or 0), int(current), now)
