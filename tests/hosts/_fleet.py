"""Three hosts, each a network namespace running a uvicorn server of `tests/hosts/app.py`, on
one PostgreSQL database and one Redis prefix of the module's own.

The shared PostgreSQL and Redis listen on 127.0.0.1 of the root namespace only, which no host
can reach: each host gets its own pair of forwarders (`FaultyLink`) in the root namespace, on
the root end of its veth, so a test can cut one host's link to Redis alone, or take the host's
interface down (`_netns.cut`) and cut it from everything.
"""

from __future__ import annotations

import asyncio
import contextlib
import secrets
import time
from dataclasses import dataclass
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import httpx
import redis

from keyguard import CreatedKey

from ..conftest import REDIS_URL, SERVER_URL, migrated_database
from ..e2e._faults import FaultyLink
from ..e2e._servers import UvicornServer
from ..e2e._support import auth
from ._netns import Host, inside, make_hosts, remove_hosts

__all__ = [
    "PEPPER",
    "Fleet",
    "answers_until",
    "revoke_through",
    "start_fleet",
    "subscribers",
    "wait_subscribers",
]

PEPPER = "hosts-pepper-not-a-secret"
HOSTS = ("a", "b", "c")
# Inside each host's own namespace, where nothing else listens: a fixed port cannot clash.
PORT = 8000
KEYS = "/v1/account/api-keys"


@dataclass
class Fleet:
    hosts: dict[str, Host]
    servers: dict[str, UvicornServer]
    redis_links: dict[str, FaultyLink]  # each host's way to Redis
    pg_links: dict[str, FaultyLink]  # each host's way to PostgreSQL
    database_url: str  # the same database, as the root namespace reaches it
    prefix: str


def _through(url: str, host: str, port: int, path: str | None = None) -> str:
    """`url` with its host and port replaced (its user kept), and its path if given."""
    parts = urlsplit(url)
    user = parts.netloc.rpartition("@")[0]
    netloc = f"{user}@{host}:{port}" if user else f"{host}:{port}"
    return urlunsplit(parts._replace(netloc=netloc, path=parts.path if path is None else path))


def _clean_prefix(prefix: str) -> None:
    client = redis.Redis.from_url(REDIS_URL)
    try:
        for key in client.scan_iter(match=f"{prefix}*"):
            client.delete(key)
    finally:
        client.close()


def start_fleet(stack: contextlib.ExitStack, logs: Path) -> Fleet:
    """Everything made is undone by `stack`, in reverse order, however the test ends."""
    databases = migrated_database("keyguard_hosts")
    name, database_url = next(databases)
    stack.callback(next, databases, None)  # drops the database
    prefix = f"keyguard-hosts-{secrets.token_hex(4)}:"
    stack.callback(_clean_prefix, prefix)
    made = make_hosts(HOSTS)
    stack.callback(remove_hosts, made)
    fleet = Fleet({host.name: host for host in made}, {}, {}, {}, database_url, prefix)
    for host in made:
        _start_host(stack, fleet, host, f"/{name}", logs)
    for server in fleet.servers.values():
        server.wait_ready()
    wait_subscribers(prefix, len(made))
    return fleet


def _start_host(
    stack: contextlib.ExitStack, fleet: Fleet, host: Host, database: str, logs: Path
) -> None:
    """The host's forwarders, on its veth's root end, and its server, in its namespace."""
    pg, rd = urlsplit(SERVER_URL), urlsplit(REDIS_URL)
    pg_link = FaultyLink(pg.hostname or "", pg.port or 5432, listen_host=host.outer_address)
    stack.callback(pg_link.close)
    redis_link = FaultyLink(rd.hostname or "", rd.port or 6379, listen_host=host.outer_address)
    stack.callback(redis_link.close)
    fleet.pg_links[host.name], fleet.redis_links[host.name] = pg_link, redis_link
    env = {
        "KEYGUARD_DATABASE_URL": _through(SERVER_URL, host.outer_address, pg_link.port, database),
        "KEYGUARD_REDIS_URL": _through(REDIS_URL, host.outer_address, redis_link.port),
        "KEYGUARD_PEPPER": PEPPER,
        "KEYGUARD_REDIS_PREFIX": fleet.prefix,
    }
    server = UvicornServer(
        f"host-{host.name}",
        env,
        logs,
        app="tests.hosts.app:app",
        host=host.address,
        port=PORT,
        wrapper=inside(host),
    )
    stack.callback(server.stop)
    fleet.servers[host.name] = server


def subscribers(prefix: str) -> int:
    """How many processes listen for change notices on the fleet's Redis channel."""
    client = redis.Redis.from_url(REDIS_URL)
    try:
        ((_, count),) = client.pubsub_numsub(prefix + "changes")
        return int(count)
    finally:
        client.close()


def wait_subscribers(prefix: str, count: int, within: float = 15.0) -> None:
    deadline = time.monotonic() + within
    while (found := subscribers(prefix)) != count:
        assert time.monotonic() < deadline, f"{found} listeners on the channel, not {count}"
        time.sleep(0.02)


async def revoke_through(
    http: httpx.AsyncClient, server: UvicornServer, admin: CreatedKey, created: CreatedKey
) -> float:
    """Revoke `created` through `server`'s management API, as a user would; the moment
    (perf_counter) just before the request: the delays count from there, the revoke's own
    time included, so they can only overstate the time after the commit."""
    since = time.perf_counter()
    url = f"{server.url}{KEYS}/{created.record.id}"
    response = await http.delete(url, headers=auth(admin.value))
    assert response.status_code == 200, (response.status_code, response.text)
    assert response.json()["data"]["revokedAt"] is not None
    return since


async def answers_until(
    http: httpx.AsyncClient, url: str, value: str, wanted: int, within: float
) -> list[int]:
    """Every status `url` answers for the key until `wanted`, bounded by `within` seconds."""
    statuses: list[int] = []
    deadline = time.monotonic() + within
    while not statuses or statuses[-1] != wanted:
        assert time.monotonic() < deadline, f"no {wanted} within {within} s: {statuses[-5:]}"
        try:
            statuses.append((await http.get(url, headers=auth(value))).status_code)
        except httpx.TransportError:
            statuses.append(0)  # not answering yet
        await asyncio.sleep(0.02)
    return statuses
