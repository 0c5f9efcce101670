"""Which client a Redis URL names: one server (`redis://`, `rediss://`, `unix://`), a master
behind Sentinel (`redis+sentinel://`) or a cluster (`redis+cluster://`), each with the same
policy: `timeout` on every connect and call, no retry."""

from __future__ import annotations

import redis.asyncio as aioredis

from ._redis_cluster import RedisClient, cluster_client, is_cluster_url
from ._redis_sentinel import is_sentinel_url, sentinel_client
from ._urls import mask_url

__all__ = ["redis_client"]


def redis_client(url: str, *, timeout: float, max_connections: int) -> RedisClient:
    """A client on a pool of its own (closing the client closes it), with `timeout` on every
    connect and call and no retry: a dead Redis costs a caller `timeout`, then the breaker."""
    if is_sentinel_url(url):
        return sentinel_client(url, timeout=timeout, max_connections=max_connections)
    if is_cluster_url(url):
        return cluster_client(url, timeout=timeout, max_connections=max_connections)
    try:
        pool = aioredis.ConnectionPool.from_url(
            url,
            max_connections=max_connections,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry_on_timeout=False,
        )
    except ValueError:  # redis-py's message quotes the URL's parts: a password, say
        raise ValueError(
            f"the Redis URL {mask_url(url)!r} is not a URL redis-py can read"
            " (a password holding / ? # @ must be percent-encoded)"
        ) from None
    return aioredis.Redis.from_pool(pool)
