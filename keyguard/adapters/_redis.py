"""The shared cache in Redis: one entry per digest, and a pub/sub channel for invalidations.

An invalidation does not just delete the entry: it writes a short-lived tombstone, and fills
write with `SET NX`. So a process that read the store just before a revoke committed cannot
put the stale record back: its write finds the tombstone and does nothing.
"""

from __future__ import annotations

import asyncio
import json
import logging
from collections.abc import AsyncIterator, Callable
from contextlib import asynccontextmanager
from typing import Any

import redis.asyncio as aioredis
from redis.exceptions import RedisError

from keyguard.core import CacheUnavailableError, KeyRecord
from keyguard.ports import CacheMiss

from ._postgres import mask_url

__all__ = ["CHANNEL", "KEY_PREFIX", "RedisKeyCache"]

logger = logging.getLogger(__name__)
KEY_PREFIX = "keyguard:"
CHANNEL = "invalidate"  # under the prefix: keyguard:invalidate
_ENTRY = "key:"
_NOT_FOUND = b"-"
_TOMBSTONE = b"!"
_INVALIDATE_ATTEMPTS = 3
_MAX_DECODED = 10_000


@asynccontextmanager
async def _redis_errors() -> AsyncIterator[None]:
    """Redis's own exceptions stop here: the services know only `CacheUnavailableError`."""
    try:
        yield
    except (RedisError, OSError) as exc:
        raise CacheUnavailableError(f"Redis failed: {type(exc).__name__}") from None


class RedisKeyCache:
    def __init__(
        self,
        client: aioredis.Redis,
        *,
        prefix: str = KEY_PREFIX,
        ttl: float = 60.0,
        negative_ttl: float = 5.0,
        tombstone_ttl: float = 30.0,
    ) -> None:
        self.client = client
        self.prefix = prefix
        self.channel = prefix + CHANNEL
        self._ttl_ms = int(ttl * 1000)
        self._negative_ttl_ms = int(negative_ttl * 1000)
        # Longer than any fill can take (store and Redis calls time out well before).
        self._tombstone_ttl_ms = int(tombstone_ttl * 1000)
        self._decoded: dict[bytes | str, KeyRecord] = {}

    @classmethod
    def from_url(cls, url: str, *, timeout: float = 0.25, **options: Any) -> RedisKeyCache:
        client = aioredis.Redis.from_url(
            url, socket_timeout=timeout, socket_connect_timeout=timeout, retry_on_timeout=False
        )
        cache = cls(client, **options)
        cache._url = url
        return cache

    _url = ""

    def __repr__(self) -> str:
        return f"RedisKeyCache(url={mask_url(self._url)!r}, prefix={self.prefix!r})"

    def _key(self, digest: bytes) -> str:
        return f"{self.prefix}{_ENTRY}{digest.hex()}"

    async def get(self, digest: bytes) -> KeyRecord | CacheMiss | None:
        try:  # not `_redis_errors()`: this is every miss's path, and a plain try costs less
            raw = await self.client.get(self._key(digest))
        except (RedisError, OSError) as exc:
            raise CacheUnavailableError(f"Redis failed: {type(exc).__name__}") from None
        if raw is None:
            return CacheMiss.ABSENT
        if raw == _TOMBSTONE:
            return CacheMiss.INVALIDATED
        if raw == _NOT_FOUND:
            return None
        # Every process reads the same bytes for a key until it changes: decode them once.
        record = self._decoded.get(raw)
        if record is None:
            if len(self._decoded) >= _MAX_DECODED:
                self._decoded.clear()
            record = self._decoded[raw] = KeyRecord.from_json(json.loads(raw))
        return record

    async def put(self, digest: bytes, record: KeyRecord | None) -> None:
        if record is None:
            raw, ttl = _NOT_FOUND, self._negative_ttl_ms
        else:
            raw, ttl = json.dumps(record.to_json(), separators=(",", ":")).encode(), self._ttl_ms
        async with _redis_errors():
            await self.client.set(self._key(digest), raw, px=ttl, nx=True)

    async def invalidate(self, digest: bytes) -> None:
        """Tombstone and publish in one round trip, retried; raises if Redis never took it."""
        for attempt in range(1, _INVALIDATE_ATTEMPTS + 1):
            try:
                async with self.client.pipeline(transaction=True) as pipe:
                    pipe.set(self._key(digest), _TOMBSTONE, px=self._tombstone_ttl_ms)
                    pipe.publish(self.channel, digest)
                    await pipe.execute()
                return
            except (RedisError, OSError) as exc:
                logger.warning(
                    "invalidation attempt %d of %d failed: %s",
                    attempt,
                    _INVALIDATE_ATTEMPTS,
                    type(exc).__name__,
                )
                if attempt == _INVALIDATE_ATTEMPTS:
                    raise CacheUnavailableError(f"Redis failed: {type(exc).__name__}") from None
                await asyncio.sleep(0.05 * attempt)

    async def listen(
        self, on_invalidate: Callable[[bytes], None], on_resync: Callable[[], None]
    ) -> None:
        delay = 0.1
        while True:
            try:
                await self._listen_once(on_invalidate, on_resync)
            except (RedisError, OSError) as exc:
                logger.warning(
                    "invalidation listener lost Redis (%s); reconnecting", type(exc).__name__
                )
            on_resync()  # messages may have been lost while disconnected
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _listen_once(
        self, on_invalidate: Callable[[bytes], None], on_resync: Callable[[], None]
    ) -> None:
        async with self.client.pubsub() as pubsub:
            await pubsub.subscribe(self.channel)
            on_resync()  # anything published before the subscription took effect is unseen
            while True:
                message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
                if message is not None and message["type"] == "message":
                    on_invalidate(message["data"])

    async def ping(self) -> bool:
        try:
            return bool(await self.client.ping())
        except (RedisError, OSError):
            return False

    async def close(self) -> None:
        await self.client.aclose()
