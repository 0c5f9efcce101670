"""What a run needs and what it makes: Postgres, Redis and wrk, checked up front; a database and
a Redis key prefix of its own, removed at the end whatever happens.

Only 127.0.0.1 (or whatever the URLs say) is contacted; nothing is started here, so nothing is
left running: when a server is missing the run says how to start it and skips what needs it.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import shutil
import subprocess
from collections.abc import AsyncIterator
from dataclasses import dataclass
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from keyguard import PostgresKeyStore

__all__ = [
    "HOW_TO",
    "Availability",
    "BenchEnv",
    "bench_database",
    "bench_redis_prefix",
    "check_availability",
    "sqlalchemy_url",
]

POSTGRES_URL = os.environ.get(
    "KEYGUARD_BENCH_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("KEYGUARD_BENCH_REDIS_URL", "redis://127.0.0.1:6379/0")

HOW_TO = {
    "postgres": (
        "PostgreSQL does not answer at {url}. Start it, e.g. `pg_ctlcluster"
        " --skip-systemctl-redirect $(ls /etc/postgresql) main start` (Debian/Ubuntu) or"
        " `docker run -d -p 127.0.0.1:5432:5432 -e POSTGRES_HOST_AUTH_METHOD=trust postgres`,"
        " or set KEYGUARD_BENCH_DATABASE_URL."
    ),
    "redis": (
        "Redis does not answer at {url}. Start it, e.g. `redis-server --daemonize yes --bind"
        ' 127.0.0.1 --port 6379 --save "" --appendonly no` or `docker run -d -p'
        " 127.0.0.1:6379:6379 redis`, or set KEYGUARD_BENCH_REDIS_URL."
    ),
    "wrk": (
        "wrk is not installed: `apt-get install -y wrk` (Debian/Ubuntu) or `brew install wrk`"
        " (macOS). Without it the end-to-end runs use a bounded Python client, which measures"
        " less precisely (it shares the CPU with the server it loads)."
    ),
}


@dataclass(frozen=True)
class Availability:
    postgres: str | None  # the admin URL when it answers
    redis: str | None
    wrk: str | None  # the wrk binary
    missing: tuple[str, ...]  # one line per missing piece, saying how to get it


async def _postgres_answers(url: str) -> bool:
    try:
        conn = await asyncpg.connect(url, timeout=3)
    except (OSError, TimeoutError, asyncpg.PostgresError, asyncpg.InterfaceError):
        return False
    await conn.close()
    return True


async def _redis_answers(url: str) -> bool:
    client = aioredis.Redis.from_url(url, socket_timeout=2, socket_connect_timeout=2)
    try:
        return bool(await client.ping())
    except (RedisError, OSError):
        return False
    finally:
        await client.aclose()


async def check_availability(
    postgres_url: str = POSTGRES_URL, redis_url: str = REDIS_URL
) -> Availability:
    pg = postgres_url if await _postgres_answers(postgres_url) else None
    rd = redis_url if await _redis_answers(redis_url) else None
    wrk = shutil.which("wrk")
    missing = []
    if pg is None:
        missing.append(HOW_TO["postgres"].format(url=postgres_url))
    if rd is None:
        missing.append(HOW_TO["redis"].format(url=redis_url))
    if wrk is None:
        missing.append(HOW_TO["wrk"])
    return Availability(pg, rd, wrk, tuple(missing))


def wrk_version(wrk: str | None) -> str | None:
    if wrk is None:
        return None
    done = subprocess.run([wrk, "-v"], capture_output=True, text=True, timeout=5, check=False)
    words = (done.stdout or done.stderr).split()  # "wrk debian/4.1.0-3+b2 [epoll] Copyright..."
    return words[1] if len(words) > 1 and words[0] == "wrk" else "unknown"


@dataclass(frozen=True)
class BenchEnv:
    """Everything the apps need, in both the benchmark process and the servers it starts."""

    database_url: str | None  # this run's own Postgres database; None without Postgres
    redis_url: str | None
    redis_prefix: str
    sqlite_url: str
    pepper: str
    key_pg: str = ""  # a valid keyguard key in the Postgres store
    key_sqlite: str = ""  # one in the SQLite store
    user_key: str = ""  # the key the hand-written alternatives look up in their own table
    keyshield_key: str = ""  # one keyshield minted, when it is installed

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> BenchEnv:
        return cls(**json.loads(text))


def with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


def sqlalchemy_url(url: str) -> str:
    """The same database for SQLAlchemy's asyncpg dialect."""
    return urlunsplit(urlsplit(url)._replace(scheme="postgresql+asyncpg"))


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


@contextlib.asynccontextmanager
async def bench_database(admin_url: str) -> AsyncIterator[str]:
    """A database for this run, migrated to keyguard's schema, dropped on the way out."""
    name = f"keyguard_bench_{os.getpid()}_{secrets.token_hex(3)}"
    await _admin(admin_url, f'CREATE DATABASE "{name}"')
    url = with_database(admin_url, name)
    try:
        store = PostgresKeyStore(url)
        try:
            await store.migrate()
        finally:
            await store.close()
        yield url
    finally:
        await _admin(admin_url, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


@contextlib.asynccontextmanager
async def bench_redis_prefix(redis_url: str | None) -> AsyncIterator[str]:
    """A key prefix for this run; every key under it is deleted on the way out."""
    prefix = f"keyguard_bench_{os.getpid()}_{secrets.token_hex(3)}:"
    try:
        yield prefix
    finally:
        if redis_url is not None:
            await _delete_prefix(redis_url, prefix)


async def _delete_prefix(redis_url: str, prefix: str) -> None:
    client = aioredis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        batch = [key async for key in client.scan_iter(match=prefix + "*", count=1000)]
        for start in range(0, len(batch), 1000):
            await client.delete(*batch[start : start + 1000])
    finally:
        await client.aclose()
