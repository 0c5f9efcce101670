"""What a run needs and what it makes: Postgres, Redis and wrk, checked up front; a database and
a Redis key prefix of its own, removed at the end whatever happens.

Only the URLs given are contacted and nothing is started here, so nothing is left running: when
a server is missing the run says how to start it and stops before making anything.
"""

from __future__ import annotations

import contextlib
import dataclasses
import json
import os
import secrets
import shutil
from collections.abc import AsyncIterator
from dataclasses import dataclass
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import redis.asyncio as aioredis
from redis.exceptions import RedisError

from keyguard import Access, KeyGuard, PostgresKeyStore, Settings

from .limited_keys import QUOTA, RATE_LIMITS
from .restricted import NETWORKS, ORIGINS, PUBLISHABLE_PERMISSIONS, SECRET_PERMISSIONS

__all__ = ["POSTGRES_URL", "REDIS_URL", "BenchEnv", "missing", "run_environment"]

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
        " (macOS). Without it the end-to-end comparison is skipped."
    ),
}


@dataclass(frozen=True)
class BenchEnv:
    """Everything the apps need, in the benchmark process and in the servers it starts."""

    database_url: str  # this run's own database, migrated to keyguard's schema
    redis_url: str
    redis_prefix: str
    pepper: str
    key: str = ""  # a valid keyguard key in that database: secret, not restricted
    user_key: str = ""  # the key the hand-written alternatives look up in their own table
    # Issue 13's keys, in the same database (see `restricted.py` for their lists):
    restricted_key: str = ""  # secret, with permissions and ten allowed networks
    publishable_key: str = ""  # publishable, not restricted
    restricted_publishable_key: str = ""  # publishable, with permissions and ten allowed origins
    # Issue 14: secret keys with a rate limit never reached, and a quota too (`limited_keys.py`)
    limited_key: str = ""
    quota_key: str = ""

    def to_json(self) -> str:
        return json.dumps(dataclasses.asdict(self))

    @classmethod
    def from_json(cls, text: str) -> BenchEnv:
        return cls(**json.loads(text))


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


async def missing(postgres_url: str, redis_url: str) -> dict[str, str]:
    """What is not there, each with how to get it: {"postgres" | "redis" | "wrk": how}."""
    found = {
        "postgres": await _postgres_answers(postgres_url),
        "redis": await _redis_answers(redis_url),
        "wrk": shutil.which("wrk") is not None,
    }
    urls = {"postgres": postgres_url, "redis": redis_url, "wrk": ""}
    return {name: HOW_TO[name].format(url=urls[name]) for name, ok in found.items() if not ok}


async def _admin(url: str, sql: str) -> None:
    conn = await asyncpg.connect(url, timeout=5)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _delete_prefix(redis_url: str, prefix: str) -> None:
    client = aioredis.Redis.from_url(redis_url, socket_timeout=5)
    try:
        batch = [key async for key in client.scan_iter(match=prefix + "*", count=1000)]
        for start in range(0, len(batch), 1000):
            await client.delete(*batch[start : start + 1000])
    finally:
        await client.aclose()


# Each key as `KeyManager.create` takes it; the field of BenchEnv that holds its value.
_KEYS: dict[str, dict[str, Any]] = {
    "key": {"access": Access.SECRET},
    "restricted_key": {
        "access": Access.SECRET,
        "permissions": SECRET_PERMISSIONS,
        "allowed_networks": NETWORKS,
    },
    "publishable_key": {"access": Access.PUBLISHABLE},
    "restricted_publishable_key": {
        "access": Access.PUBLISHABLE,
        "permissions": PUBLISHABLE_PERMISSIONS,
        "allowed_origins": ORIGINS,
    },
    "limited_key": {"access": Access.SECRET, "rate_limits": RATE_LIMITS},
    "quota_key": {"access": Access.SECRET, "rate_limits": RATE_LIMITS, "quota": QUOTA},
}


async def _mint_keys(env: BenchEnv) -> dict[str, str]:
    """Migrate this run's database and make its keys through keyguard's own manager:
    {BenchEnv field: key value}."""
    store = PostgresKeyStore(env.database_url)
    values = {}
    try:
        await store.migrate()  # before the guard starts: it refuses a database without the schema
        settings = Settings(database_url=env.database_url, pepper=env.pepper)
        async with KeyGuard(settings, store=store) as guard:
            for field, options in _KEYS.items():
                created = await guard.manager.create(
                    account="bench", name=field, environment="test", **options
                )
                values[field] = created.value
    finally:
        await store.close()
    return values


@contextlib.asynccontextmanager
async def run_environment(admin_url: str, redis_url: str) -> AsyncIterator[BenchEnv]:
    """A database and a Redis key prefix for this run, with its keys minted; both removed on the
    way out (also on Ctrl-C or SIGTERM, which cancel the run)."""
    tag = f"keyguard_bench_{os.getpid()}_{secrets.token_hex(3)}"
    await _admin(admin_url, f'CREATE DATABASE "{tag}"')
    database_url = urlsplit(admin_url)._replace(path=f"/{tag}").geturl()
    env = BenchEnv(database_url, redis_url, f"{tag}:", secrets.token_hex(16))
    try:
        yield dataclasses.replace(env, **await _mint_keys(env))
    finally:
        try:
            await _delete_prefix(redis_url, env.redis_prefix)
        finally:
            await _admin(admin_url, f'DROP DATABASE IF EXISTS "{tag}" WITH (FORCE)')
