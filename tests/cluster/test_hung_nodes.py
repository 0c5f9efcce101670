"""A cluster whose nodes accept connections and never answer (stopped, or cut off without a
reset): every call fails within its stated bound, however many wait at once. Reading the
layout is bounded (2 x `redis_timeout`), and after a failed read calls fail at once for a
while, instead of queueing behind one another to read it again, node after node."""

from __future__ import annotations

import asyncio
import socket
import time
from collections.abc import Iterator

import pytest

from keyguard.adapters import RedisKeyCache
from keyguard.core import CacheUnavailableError

TIMEOUT = 0.25
# The layout read (2 x timeout) and the call's own timeout, with a margin for a loaded machine.
BOUND = 3 * TIMEOUT + 0.75


@pytest.fixture
def silent_nodes() -> Iterator[list[int]]:
    """Three ports that accept connections (the kernel's backlog) and never answer."""
    listeners = []
    for _ in range(3):
        listener = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        listener.bind(("127.0.0.1", 0))
        listener.listen(128)
        listeners.append(listener)
    yield [listener.getsockname()[1] for listener in listeners]
    for listener in listeners:
        listener.close()


async def test_concurrent_calls_to_hung_nodes_each_fail_within_the_bound(
    silent_nodes: list[int],
) -> None:
    url = "redis+cluster://" + ",".join(f"127.0.0.1:{port}" for port in silent_nodes)
    cache = RedisKeyCache.from_url(url, mac_key=b"k" * 32, timeout=TIMEOUT)

    async def one(digest: bytes) -> float:
        started = time.monotonic()
        with pytest.raises(CacheUnavailableError):
            await cache.get(digest)
        return time.monotonic() - started

    try:
        for _ in range(3):  # a burst, again once the pause after a failed read is over
            waits = await asyncio.gather(*(one(bytes([n]) * 32) for n in range(30)))
            assert max(waits) < BOUND, sorted(waits)[-5:]
            await asyncio.sleep(2 * TIMEOUT)
    finally:
        await cache.close()
