"""The shared cache in Redis: one authenticated entry per digest, and a pub/sub channel that
tells every process of a change at once.

An invalidation does not just delete the entry: it writes a short-lived tombstone, and fills
write with `SET NX`. So a process that read the store just before a revoke committed cannot
put the stale record back: its write finds the tombstone and does nothing. What Redis returns
is checked (`EntryCodec`) before it is used; an entry that fails the check is deleted.

The same code serves one Redis and a Redis Cluster (`_redis_cluster` says where each key
lives there): every call touches one key, or keys of one slot.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from contextlib import asynccontextmanager
from typing import Any

from redis.asyncio.client import PubSub
from redis.exceptions import AuthenticationError, RedisClusterException, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from keyguard.core import CacheUnavailableError, KeyRecord
from keyguard.ports import CacheMiss, StoreChange

from ._failures import network_failure, one_line
from ._redis_client import redis_client
from ._redis_cluster import RedisClient, publish, relearn_layout, run_script, subscription
from ._redis_entries import BAD, EntryCodec
from ._urls import mask_url

__all__ = [
    "CHANNEL",
    "KEY_PREFIX",
    "REDIS_FAILURES",
    "RedisClient",
    "RedisKeyCache",
    "entry_key",
    "redis_client",
]

logger = logging.getLogger(__name__)
KEY_PREFIX = "keyguard:"
CHANNEL = "changes"  # under the prefix: keyguard:changes
# Entries carry a key's restrictions since the second format. A process of an older release
# would read such an entry, ignore the restrictions and let a restricted key do everything:
# the new format lives under new names, which older processes never read. The third adds the
# usage limits (a second-format reader would let a limited key go unlimited).
_ENTRY = "key3:"
_TOMBSTONE = b"!"
_INVALIDATE_ATTEMPTS = 3
_SUBSCRIBE_WAIT = 5.0  # seconds for Redis to confirm a subscription
# What a failing Redis raises: a cluster's "no node could be reached" is not a RedisError.
REDIS_FAILURES = (RedisError, OSError, RedisClusterException)
_MAX_DECODED = 10_000
# Deletes an entry only if it still holds the bytes found bad (never a tombstone written since).
_DELETE_IF_UNCHANGED = (
    "if redis.call('GET', KEYS[1]) == ARGV[1] then redis.call('DEL', KEYS[1]) end"
)


@asynccontextmanager
async def _redis_errors(where: str) -> AsyncIterator[None]:
    """Redis's own exceptions stop here: the services know only `CacheUnavailableError`."""
    try:
        yield
    except REDIS_FAILURES as exc:
        raise _unavailable(where, exc) from None


def _unavailable(where: str, exc: BaseException) -> CacheUnavailableError:
    return CacheUnavailableError(f"{where} failed: {_describe(exc)}")


def _describe(exc: BaseException) -> str:
    """In words, as an operator acts on them. Redis's messages hold no password."""
    if isinstance(exc, AuthenticationError):
        return f"authentication failed ({one_line(str(exc)).rstrip('.')})"
    if isinstance(exc, RedisTimeoutError):
        return "no answer in time"
    return network_failure(exc) or type(exc).__name__


def entry_key(prefix: str, digest: bytes) -> str:
    """Where the entry for a digest lives under a key prefix."""
    return f"{prefix}{_ENTRY}{digest.hex()}"


class RedisKeyCache:
    def __init__(
        self,
        client: RedisClient,
        *,
        mac_key: bytes,
        prefix: str = KEY_PREFIX,
        ttl: float = 60.0,
        negative_ttl: float = 5.0,
        tombstone_ttl: float = 30.0,
        max_connections: int = 50,
    ) -> None:
        self.client = client
        # A burst of misses queues here rather than running the pool dry, which would fail
        # calls at once and look like Redis failing (redis-py's blocking pool costs every call
        # a lock; an uncontended semaphore costs nothing).
        self.gate = asyncio.Semaphore(max_connections)
        self.prefix = prefix
        self.channel = prefix + CHANNEL
        self.listening = False
        self._listener_lost = ""  # the cluster node the channel was last lost on
        self.codec = EntryCodec(mac_key, ttl=max(ttl, negative_ttl))
        self._ttl_ms = int(ttl * 1000)
        self._negative_ttl_ms = int(negative_ttl * 1000)
        # Longer than any fill can take (store and Redis calls time out well before).
        self._tombstone_ttl_ms = int(tombstone_ttl * 1000)
        # Checked entries by (digest, bytes): every process reads the same bytes for a key until
        # it changes, so each is checked once. The digest is part of the key: the same bytes
        # under another digest are a copied entry, and must fail their own check.
        self._decoded: dict[tuple[bytes, bytes], tuple[KeyRecord | None, int]] = {}
        self._delete_if_unchanged = client.register_script(_DELETE_IF_UNCHANGED)

    @classmethod
    def from_url(
        cls, url: str, *, timeout: float = 0.25, max_connections: int = 50, **options: Any
    ) -> RedisKeyCache:
        # Room beyond the calls `gate` lets through: the channel's, the limiter's.
        client = redis_client(url, timeout=timeout, max_connections=2 * max_connections + 1)
        cache = cls(client, max_connections=max_connections, **options)
        cache._url = url
        cache.where = f"Redis at {mask_url(url)}"
        return cache

    _url = ""
    where = "Redis"  # what its errors name, e.g. "Redis at redis://cache:6379/0 failed: ..."

    def __repr__(self) -> str:
        return f"RedisKeyCache(url={mask_url(self._url)!r}, prefix={self.prefix!r})"

    def entry_key(self, digest: bytes) -> str:
        return entry_key(self.prefix, digest)

    async def get(self, digest: bytes) -> KeyRecord | CacheMiss | None:
        key = self.entry_key(digest)
        try:  # not `_redis_errors()`: this is every miss's path, and a plain try costs less
            async with self.gate:
                raw: bytes | None = await self.client.get(key)  # type: ignore[assignment]
        except REDIS_FAILURES as exc:
            raise _unavailable(self.where, exc) from None
        if raw is None:
            return CacheMiss.ABSENT
        if raw == _TOMBSTONE:
            return CacheMiss.INVALIDATED
        decoded = self._decoded.get((digest, raw))
        if decoded is None:
            checked = self.codec.decode(digest, raw)
            if checked is BAD:
                await self._drop_bad(key, raw)
                return CacheMiss.ABSENT
            if len(self._decoded) >= _MAX_DECODED:
                self._decoded.clear()
            decoded = self._decoded[digest, raw] = checked
        record, expires_ms = decoded
        if not self.codec.fresh(expires_ms):  # past its own expiry (a copy written back?)
            await self._drop(key, raw)
            return CacheMiss.ABSENT
        return record

    async def _drop_bad(self, key: str, raw: bytes) -> None:
        logger.warning("dropped a shared-cache entry that failed its check")
        await self._drop(key, raw)

    async def _drop(self, key: str, raw: bytes) -> None:
        async with _redis_errors(self.where), self.gate:
            await run_script(self.client, self._delete_if_unchanged, [key], [raw])

    async def put(self, digest: bytes, record: KeyRecord | None) -> None:
        ttl = self._negative_ttl_ms if record is None else self._ttl_ms
        raw = self.codec.encode(digest, record, ttl)
        async with _redis_errors(self.where), self.gate:
            await self.client.set(self.entry_key(digest), raw, px=ttl, nx=True)

    async def invalidate(self, digests: Iterable[bytes], change: StoreChange | None) -> None:
        """Tombstone each digest, then publish the change, each retried; raises if Redis never
        took either. The notice only once every tombstone is written: a listener that drops
        its copy on the notice must find the tombstone, not the old entry, when it reads
        again. Not one MULTI: in a cluster the digests' keys live on different masters."""
        digests = list(digests)
        if digests:
            await self._retried("invalidation", lambda: self._tombstone(digests))
        if change is not None:
            notice, tried = self.codec.sign_change(change), set[str]()
            await self._retried("change notice", lambda: self._publish(notice, tried))

    async def _tombstone(self, digests: list[bytes]) -> None:
        try:
            async with self.gate, self.client.pipeline(transaction=False) as pipe:
                for digest in digests:
                    pipe.set(self.entry_key(digest), _TOMBSTONE, px=self._tombstone_ttl_ms)
                await pipe.execute()
        except REDIS_FAILURES:
            with contextlib.suppress(*REDIS_FAILURES):  # the retry will say what failed
                await relearn_layout(self.client)
            raise

    async def _publish(self, notice: bytes, tried: set[str]) -> None:
        async with self.gate:
            await publish(self.client, self.channel, notice, tried=tried)

    async def _retried(self, what: str, call: Callable[[], Awaitable[None]]) -> None:
        for attempt in range(1, _INVALIDATE_ATTEMPTS + 1):
            try:
                await call()
                return
            except REDIS_FAILURES as exc:
                logger.warning(
                    "%s attempt %d of %d failed: %s",
                    what,
                    attempt,
                    _INVALIDATE_ATTEMPTS,
                    _describe(exc),
                )
                if attempt == _INVALIDATE_ATTEMPTS:
                    raise _unavailable(self.where, exc) from None
                await asyncio.sleep(0.05 * attempt)

    async def listen(self, on_change: Callable[[StoreChange], None]) -> None:
        delay = 0.1
        while True:
            try:
                await self._listen_once(on_change)
            except REDIS_FAILURES as exc:
                logger.warning(
                    "change notices from Redis lost (%s); reconnecting", type(exc).__name__
                )
            except Exception:  # whatever it was, the listener must outlive it
                logger.exception("change notices from Redis failed; reconnecting")
            await asyncio.sleep(delay)
            delay = min(delay * 2, 2.0)

    async def _listen_once(self, on_change: Callable[[StoreChange], None]) -> None:
        """Subscribed on one node (in a cluster, not the one lost last); `listening` only
        from Redis's confirmation on."""
        lost, self._listener_lost = self._listener_lost, ""
        subscribed = subscription(self.client, self.channel, avoid=lost, within=_SUBSCRIBE_WAIT)
        async with subscribed as (pubsub, node):
            self.listening = True
            try:
                await self._deliver(pubsub, on_change)
            finally:
                self.listening = False
                self._listener_lost = node

    async def _deliver(self, pubsub: PubSub, on_change: Callable[[StoreChange], None]) -> None:
        while True:
            message = await pubsub.get_message(ignore_subscribe_messages=True, timeout=1.0)
            if message is None or message["type"] != "message":
                continue
            change = self.codec.open_change(message["data"])
            if change is BAD:
                logger.warning("ignored a change notice that failed its check")
            else:
                on_change(change)

    async def ping(self) -> None:
        async with _redis_errors(self.where), self.gate:
            await self.client.ping()

    async def close(self) -> None:
        await self.client.aclose()
