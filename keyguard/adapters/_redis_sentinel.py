"""Redis behind Sentinel: `redis+sentinel://[[user]:password@]host:port[,host:port...]/service[/db]`.

The client asks the sentinels for the master of `service` whenever it opens a connection, so a
failover costs the calls in flight and those made while no master is known, each failing as
`CacheUnavailableError` once the sentinels, asked in turn with `redis_timeout` each, name none
(the breaker then sends lookups to the store).
A connection still open to a master that was demoted meets READONLY on its next write:
redis-py drops it and raises a connection error, and the next connection asks the sentinels.
"""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from typing import Any
from urllib.parse import parse_qsl, unquote

import redis.asyncio as aioredis
from redis.asyncio.retry import Retry
from redis.asyncio.sentinel import Sentinel
from redis.backoff import NoBackoff

from ._urls import mask_url

__all__ = ["SCHEMES", "SentinelTarget", "is_sentinel_url", "parse_sentinel_url", "sentinel_client"]

SCHEMES = ("redis+sentinel", "rediss+sentinel")
DEFAULT_PORT = 26379
# Query options and the target's field each sets; anything else is refused, not ignored.
_OPTIONS = {
    "sentinel_username": "sentinel_username",
    "sentinel_password": "sentinel_password",
    "ssl_ca_certs": "ssl_ca_certs",
}
_HOST = re.compile(r"^(?:\[(?P<v6>[0-9A-Fa-f:.]+)\]|(?P<name>[A-Za-z0-9._-]+))(?::(?P<port>.*))?$")


@dataclass(frozen=True)
class SentinelTarget:
    """What a sentinel URL names. The passwords stay out of the repr."""

    sentinels: tuple[tuple[str, int], ...]
    service_name: str
    db: int = 0
    username: str | None = None
    password: str | None = field(default=None, repr=False)
    sentinel_username: str | None = None
    sentinel_password: str | None = field(default=None, repr=False)
    ssl: bool = False
    ssl_ca_certs: str | None = None


def is_sentinel_url(url: str) -> bool:
    return url.partition("://")[0].lower() in SCHEMES


def parse_sentinel_url(url: str) -> SentinelTarget:
    """Raises ValueError saying what is wrong, with the URL masked. No part of the URL is
    quoted back: a password holding an unencoded `/`, `?` or `@` would land in any part."""
    try:
        return _parse(url)
    except _Malformed as exc:
        raise ValueError(f"the Redis Sentinel URL {mask_url(url)!r} {exc.problem}") from None


class _Malformed(Exception):
    def __init__(self, problem: str) -> None:
        self.problem = problem


def _parse(url: str) -> SentinelTarget:
    scheme, sep, rest = url.partition("://")
    if not sep or scheme.lower() not in SCHEMES:
        raise _Malformed(f"does not start with {' or '.join(s + '://' for s in SCHEMES)}")
    if "#" in rest:
        raise _Malformed("holds a # (a password holding / ? # @ must be percent-encoded)")
    head, _, query = rest.partition("?")
    netloc, _, path = head.partition("/")
    if "@" in path or "@" in query:
        raise _Malformed("holds an @ after its hosts (percent-encode / ? # @ in a password)")
    userinfo, at, hosts = netloc.rpartition("@")
    username, password = _credentials(userinfo) if at else (None, None)
    service_name, db = _service(path)
    options = _options(query)
    ssl = scheme.lower() == "rediss+sentinel"
    if "ssl_ca_certs" in options and not ssl:
        raise _Malformed("sets ssl_ca_certs without TLS (rediss+sentinel://)")
    return SentinelTarget(
        sentinels=_sentinels(hosts),
        service_name=service_name,
        db=db,
        username=username,
        password=password,
        ssl=ssl,
        **options,
    )


def _credentials(userinfo: str) -> tuple[str | None, str | None]:
    """As redis-py reads `redis://` user-info: `user:password`, `:password`, or `user`."""
    user, colon, password = userinfo.partition(":")
    return (unquote(user) or None), (unquote(password) if colon else None)


def _sentinels(hosts: str) -> tuple[tuple[str, int], ...]:
    if not hosts:
        raise _Malformed("names no sentinel (host:port[,host:port...])")
    found = []
    for host in hosts.split(","):
        match = _HOST.match(host)
        if match is None:
            raise _Malformed("has a sentinel address that is not host:port")
        port = match["port"]
        if port is None:
            number = DEFAULT_PORT
        elif port.isascii() and port.isdigit() and 0 < int(port) < 65536:
            number = int(port)
        else:
            raise _Malformed("has a sentinel port that is not a number from 1 to 65535")
        found.append((match["v6"] or match["name"], number))
    return tuple(found)


def _service(path: str) -> tuple[str, int]:
    name, _, db = path.partition("/")
    name = unquote(name)
    if not name:
        raise _Malformed("names no service (…/service_name[/db], as in `sentinel monitor`)")
    if not db:
        return name, 0
    if not (db.isascii() and db.isdigit()) or "/" in db or int(db) > 1_000_000:
        raise _Malformed("has a database that is not a number (…/service_name/db)")
    return name, int(db)


def _options(query: str) -> dict[str, Any]:
    try:
        pairs = parse_qsl(query, keep_blank_values=True, strict_parsing=bool(query))
    except ValueError:
        raise _Malformed("has a query that does not parse") from None
    options: dict[str, Any] = {}
    for key, value in pairs:
        if key not in _OPTIONS:
            raise _Malformed(f"has a query option other than {', '.join(_OPTIONS)}")
        if key in options:
            raise _Malformed("has a query option twice")
        options[_OPTIONS[key]] = value
    return options


class _SentinelMaster(aioredis.Redis):
    """The master's client; closing it closes the sentinels' clients too."""

    sentinel_manager: Sentinel

    async def aclose(self, close_connection_pool: bool | None = None) -> None:
        try:
            await super().aclose(close_connection_pool)
        finally:
            await self.sentinel_manager.aclose()


def sentinel_client(url: str, *, timeout: float, max_connections: int) -> aioredis.Redis:
    """A client of the master the sentinels name: `timeout` on every sentinel query, connect
    and call, and no retry anywhere (redis-py's clients retry three times by default)."""
    target = parse_sentinel_url(url)
    no_retry = Retry(NoBackoff(), 0)
    common: dict[str, Any] = {
        "socket_timeout": timeout,
        "socket_connect_timeout": timeout,
        "retry": no_retry,
    }
    if target.ssl:
        common.update(ssl=True, ssl_ca_certs=target.ssl_ca_certs)
    sentinel = Sentinel(  # type: ignore[no-untyped-call]
        target.sentinels,
        sentinel_kwargs={
            **common,
            "username": target.sentinel_username,
            "password": target.sentinel_password,
        },
    )
    client: _SentinelMaster = sentinel.master_for(
        target.service_name,
        redis_class=_SentinelMaster,
        max_connections=max_connections,
        db=target.db,
        username=target.username,
        password=target.password,
        **common,
    )
    client.sentinel_manager = sentinel
    return client
