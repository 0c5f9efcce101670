"""Redis Cluster: `redis+cluster://[user:password@]host:port[,host:port...][/]` (TLS:
`rediss+cluster://`) names a cluster by some of its nodes; any one that answers is enough to
find the rest, so naming several lets a process start while one is down.

Where keyguard's keys live (each key hashes to one of 16384 slots, each slot on one master):

- An entry and its tombstone are one key, `<prefix>key3:<digest hex>`: a revocation overwrites
  the entry in place, so the late fill's `SET NX` meets the tombstone on the same node. No
  hash tag: entries spread over every master by digest.
- A client's failed attempts: `<prefix>failures:{<client, hex>}:<window>`. The limiter's script
  reads the previous and the current window together, so both share a slot through the hash
  tag; the client is hex-encoded, so a `{` or `}` in it cannot end the tag early.
- A key's rate limits and quota: one hash, `<prefix>rl:{<key id>}`, one key per script.
- Keep braces out of the prefix: the first `{...}` of a key is its tag.

Change notices use classic PUBLISH/SUBSCRIBE, not sharded pub/sub (SPUBLISH): the cluster bus
relays every classic publish to every node, so a listener subscribed on any node hears every
notice, and when its node dies it subscribes on any other live one. A sharded channel lives
on one shard: its failover would drop every subscriber at once. The relay costs one small
message per key change per node, which is nothing.

Failures cost what they cost on one Redis: every connect and call has the timeout, nothing is
retried by the client (a command to a dead master fails at once, or after the timeout), and
the topology is read again on the next call after a failure, so calls find the promoted
replica as soon as the cluster has one. Commands that may go to any node (the notice, the
channel's subscription) pick a node at random, avoiding the one that just failed. Scripts
missing on a node (a promoted replica has none) are sent whole to that node (`run_script`).
"""

from __future__ import annotations

import asyncio
import math
import secrets
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from typing import Any, TypeAlias, cast
from urllib.parse import urlsplit

import redis.asyncio as aioredis
from redis.asyncio.client import PubSub
from redis.asyncio.cluster import ClusterNode, RedisCluster
from redis.asyncio.connection import SSLConnection, parse_url
from redis.asyncio.retry import Retry
from redis.backoff import NoBackoff
from redis.commands.core import AsyncScript
from redis.exceptions import NoScriptError, RedisClusterException, RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError
from redis.typing import EncodableT, KeyT

from ._urls import mask_url

__all__ = [
    "CLUSTER_SCHEMES",
    "RedisClient",
    "cluster_client",
    "is_cluster_url",
    "publish",
    "relearn_layout",
    "run_script",
    "subscription",
]

RedisClient: TypeAlias = aioredis.Redis | RedisCluster
CLUSTER_SCHEMES = {"redis+cluster": "redis", "rediss+cluster": "rediss"}


def is_cluster_url(url: str) -> bool:
    return url.partition("://")[0].lower() in CLUSTER_SCHEMES


class _InitializedFirst(RedisCluster):
    """Reads the topology before a command is routed. redis-py (8.1) picks a command's route
    before it first reads the topology: a command sent before then (every call of a burst
    on a new client) goes to a master at random, is MOVED, and every fifth MOVED closes all
    the client's connections, in use or not."""

    node_options: dict[str, Any]  # how to reach one node alone: credentials, TLS, timeouts
    layout_timeout = 0.5  # seconds a call may wait for the layout to be read
    _layout_failed_at = -math.inf  # loop time the last read of the layout failed

    async def execute_command(self, *args: EncodableT, **kwargs: Any) -> Any:
        await self._layout()
        return await super().execute_command(*args, **kwargs)

    async def _layout(self) -> None:
        """At once when the topology is known. Else bounded: redis-py reads it under one lock,
        node after node with the timeout each, and every caller queued on the lock reads it
        again after a failure; with nodes that hang, calls would wait one behind another for
        a minute. After a failed read, calls fail at once for a while."""
        now = asyncio.get_running_loop().time()
        if now - self._layout_failed_at < self.layout_timeout:
            raise RedisClusterException("the cluster's layout could not be read just now")
        try:
            async with asyncio.timeout(self.layout_timeout):
                await self.initialize()
        except (TimeoutError, RedisClusterException, RedisError, OSError):
            self._layout_failed_at = asyncio.get_running_loop().time()
            raise


def cluster_client(url: str, *, timeout: float, max_connections: int) -> RedisCluster:
    """A cluster client with the single client's policy: `timeout` on every connect and call,
    no retry; `max_connections` per node."""
    try:
        nodes, options = _parsed(url)
        options |= {"socket_timeout": timeout, "socket_connect_timeout": timeout}
        client = _InitializedFirst(
            startup_nodes=nodes,
            # A MOVED moves its slot in the client's map; the whole map is read again after a
            # failed call. Reading it every few MOVED would close connections in use.
            reinitialize_steps=0,
            max_connections=max_connections,
            retry=Retry(NoBackoff(), 0),
            **options,
        )
    except (ValueError, TypeError, RedisClusterException):  # their messages may quote parts
        raise ValueError(
            f"the Redis Cluster URL {mask_url(url)!r} is not one keyguard can read: it is"
            " redis+cluster://[user:password@]host:port[,host:port...][/] (a password holding"
            " / ? # @ must be percent-encoded)"
        ) from None
    client.node_options = options
    client.layout_timeout = 2 * timeout  # one node's connect and answer
    return client


def _parsed(url: str) -> tuple[list[ClusterNode], dict[str, Any]]:
    """The seed nodes, and the rest as redis-py reads a one-host URL of the same parts."""
    scheme, _, rest = url.partition("://")
    userinfo, at, location = rest.rpartition("@")
    end = min((i for i in (location.find("/"), location.find("?")) if i >= 0), default=None)
    hosts, tail = location[:end], location[end:] if end is not None else ""
    addresses = [urlsplit(f"//{host.strip()}") for host in hosts.split(",")]
    nodes = [ClusterNode(a.hostname or "", a.port or 6379) for a in addresses]
    if not nodes or not all(node.host for node in nodes):
        raise ValueError("no host")
    options: dict[str, Any] = dict(
        parse_url(f"{CLUSTER_SCHEMES[scheme.lower()]}://{userinfo}{at}{hosts.split(',')[0]}{tail}")
    )
    if options.pop("db", 0) not in (0, None):
        raise ValueError("a cluster has one database, 0")
    options.pop("host", None)
    options.pop("port", None)
    if options.pop("connection_class", None) is SSLConnection:
        options["ssl"] = True
    return nodes, options


async def relearn_layout(client: RedisClient) -> None:
    """Read a cluster's layout again now. A failed command marks it to be read again before
    the next; a failed pipeline does not (redis-py 8.1): the next attempt would go to the same
    dead master, and so would every later pipeline until a single command failed too."""
    if isinstance(client, RedisCluster):
        await client.nodes_manager.initialize()


async def publish(client: RedisClient, channel: str, message: bytes, *, tried: set[str]) -> None:
    """Publish `message`: in a cluster on any node (the bus relays it to all) not in `tried`
    (the nodes earlier attempts failed on), which gets this one's."""
    if isinstance(client, RedisCluster):
        node = await _any_node(client, avoid=tried)
        tried.add(node.name)
        await client.publish(channel, message, target_nodes=node)
    else:
        await client.publish(channel, message)


@asynccontextmanager
async def subscription(
    client: RedisClient, channel: str, *, avoid: str, within: float
) -> AsyncIterator[tuple[PubSub, str]]:
    """A pub/sub connection subscribed to `channel` (Redis confirmed it, within `within` s)
    and the node it is on: in a cluster any node but `avoid` (where the last one was lost),
    as a classic channel is heard on every node; on a connection of its own, never one of
    the cluster client's pools (redis-py hands a closed subscriber's connection, unread
    messages and all, to the next user)."""
    if not isinstance(client, _InitializedFirst):
        async with client.pubsub() as pubsub:
            await _subscribe(pubsub, channel, within)
            yield pubsub, ""
        return
    node = await _any_node(client, avoid={avoid})
    alone = aioredis.Redis(host=node.host, port=int(node.port), **client.node_options)
    try:
        async with alone.pubsub() as pubsub:
            await _subscribe(pubsub, channel, within)
            yield pubsub, str(node.name)
    finally:
        await alone.aclose()


async def _subscribe(pubsub: PubSub, channel: str, within: float) -> None:
    """Only from Redis's confirmation on is every notice heard."""
    await pubsub.subscribe(channel)
    deadline = asyncio.get_running_loop().time() + within
    while asyncio.get_running_loop().time() < deadline:
        message = await pubsub.get_message(timeout=0.5)
        if message is not None and message["type"] == "subscribe":
            return
    raise RedisTimeoutError("no subscription confirmed")


async def _any_node(client: RedisCluster, avoid: set[str]) -> ClusterNode:
    """A node at random, one in `avoid` only if no other is known. `initialize` reads the
    topology when the client has none or a call failed since, so a node the cluster has
    dropped is not picked again."""
    await client.initialize()
    nodes = client.get_nodes()
    if not nodes:
        raise RedisClusterException("no node of the cluster is known")
    others = [node for node in nodes if node.name not in avoid]
    return secrets.choice(others or nodes)


async def run_script(
    client: RedisClient, script: AsyncScript, keys: Sequence[KeyT], args: Sequence[EncodableT]
) -> Any:
    """`script` by its SHA, or by its text where the node lacks it (a promoted replica, a
    restarted node): EVAL loads it on that node alone. redis-py's own fallback loads it on
    every master first, which fails while any master is down."""
    try:
        return await client.evalsha(script.sha, len(keys), *keys, *args)
    except NoScriptError:  # keyguard's scripts are text
        return await client.eval(cast(str, script.script), len(keys), *keys, *args)
