"""The Redis rate limiter's fixtures, shared by its rate-limit and quota tests: a limiter on the
real Redis under a prefix of its own, async or for hypothesis (one loop and client for all)."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator, Iterator

import pytest

from keyguard.adapters import RedisRateLimiter


def make(url: str, prefix: str) -> RedisRateLimiter:
    return RedisRateLimiter.from_url(url, prefix=f"{prefix}{secrets.token_hex(3)}:", timeout=1.0)


@pytest.fixture
async def limiter(redis_url: str, redis_prefix: str) -> AsyncIterator[RedisRateLimiter]:
    limiter = make(redis_url, redis_prefix)
    yield limiter
    await limiter.close()


@pytest.fixture
def loop_and_limiter(
    redis_url: str, redis_prefix: str
) -> Iterator[tuple[asyncio.AbstractEventLoop, RedisRateLimiter]]:
    """For hypothesis, whose examples cannot be coroutines: one loop and client for them all."""
    loop = asyncio.new_event_loop()
    limiter = make(redis_url, redis_prefix)
    yield loop, limiter
    loop.run_until_complete(limiter.close())
    loop.close()
