"""Fixtures shared by the whole suite.

PostgreSQL and Redis are the real servers (scripts/test makes sure they answer). Each run makes
its own database and Redis key prefix and removes them afterwards. Every test's captured log is
checked for anything shaped like a key value.
"""

from __future__ import annotations

import asyncio
import os
import re
import secrets
from collections.abc import AsyncIterator, Iterator
from pathlib import Path
from urllib.parse import urlsplit, urlunsplit

import asyncpg
import pytest
import redis.asyncio as aioredis

from keyguard import KeyGuard, KeyHasher, KeyManager, PostgresKeyStore, Settings, SQLiteKeyStore
from keyguard.ports import KeyStore

# Our own fixtures for apps' tests, as a user enables them: tests/testing runs the README's example.
pytest_plugins = ["keyguard.testing.pytest_plugin"]

KEY_SHAPE = re.compile(r"[sp]k_[a-z]+_[0-9A-Za-z]{38}")
TEST_PEPPER = "test-pepper-not-a-secret"
SERVER_URL = os.environ.get(
    "KEYGUARD_TEST_DATABASE_URL", "postgresql://postgres@127.0.0.1:5432/postgres"
)
REDIS_URL = os.environ.get("KEYGUARD_TEST_REDIS_URL", "redis://127.0.0.1:6379/0")


def _with_database(url: str, name: str) -> str:
    return urlunsplit(urlsplit(url)._replace(path=f"/{name}"))


async def _admin(sql: str) -> None:
    try:
        conn = await asyncpg.connect(SERVER_URL, timeout=5)
    except (OSError, asyncpg.PostgresError) as exc:
        pytest.fail(
            f"PostgreSQL does not answer at {SERVER_URL} ({exc!r}); run the tests through"
            " scripts/test, which starts it, or set KEYGUARD_TEST_DATABASE_URL",
            pytrace=False,
        )
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def migrate_database(url: str) -> None:
    """`keyguard migrate` on `url`, as a release step runs it."""
    store = PostgresKeyStore(url)
    try:
        await store.migrate()
    finally:
        await store.close()


def migrated_database(prefix: str) -> Iterator[tuple[str, str]]:
    """A database of its own, migrated: (name, URL), dropped when the generator closes."""
    name = f"{prefix}_{os.getpid()}_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    url = _with_database(SERVER_URL, name)
    asyncio.run(migrate_database(url))
    yield name, url
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture(scope="session")
def pg_database_url() -> Iterator[str]:
    """A database made for this run, migrated, dropped at the end."""
    for _, url in migrated_database("keyguard_test"):
        yield url


@pytest.fixture
def empty_pg_database_url() -> Iterator[str]:
    """A database with no keyguard tables, for migration tests."""
    name = f"keyguard_test_{os.getpid()}_{secrets.token_hex(4)}"
    asyncio.run(_admin(f'CREATE DATABASE "{name}"'))
    yield _with_database(SERVER_URL, name)
    asyncio.run(_admin(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))


@pytest.fixture
async def pg_store(pg_database_url: str) -> AsyncIterator[PostgresKeyStore]:
    store = PostgresKeyStore(pg_database_url)
    await store.open()
    async with store._session() as runner:
        await runner.execute(
            "TRUNCATE keyguard_keys, keyguard_audit_log, keyguard_accounts, keyguard_changes"
        )
    yield store
    await store.close()


@pytest.fixture
async def sqlite_store(tmp_path: object) -> AsyncIterator[SQLiteKeyStore]:
    store = SQLiteKeyStore(str(tmp_path) + "/keys.db")
    await store.open()
    yield store
    await store.close()


@pytest.fixture(params=["sqlite", "postgres"])
def database_url(request: pytest.FixtureRequest, tmp_path: Path) -> str:
    """Each store's URL in turn: a fresh SQLite file, and this run's PostgreSQL database."""
    # Not async: the Postgres fixture sets its database up with asyncio.run().
    if request.param == "sqlite":
        return f"sqlite:///{tmp_path}/keys.db"
    return request.getfixturevalue("pg_database_url")  # type: ignore[no-any-return]


@pytest.fixture(params=["sqlite", "postgres"])
def store(request: pytest.FixtureRequest) -> KeyStore:
    """Each store adapter in turn: the contract suite runs against both."""
    fixture = "sqlite_store" if request.param == "sqlite" else "pg_store"
    return request.getfixturevalue(fixture)  # type: ignore[no-any-return]


@pytest.fixture
async def guard(tmp_path: Path) -> AsyncIterator[KeyGuard]:
    """A started guard on a SQLite file of its own (directories may override it)."""
    guard = KeyGuard(Settings(database_url=f"sqlite:///{tmp_path}/k.db", pepper="p"))
    await guard.start()
    yield guard
    await guard.stop()


@pytest.fixture
def hasher() -> KeyHasher:
    return KeyHasher(TEST_PEPPER)


@pytest.fixture
def manager(store: KeyStore, hasher: KeyHasher) -> KeyManager:
    return KeyManager(store, hasher=hasher)


@pytest.fixture(scope="session")
def redis_url() -> str:
    return REDIS_URL


@pytest.fixture(scope="session")
def redis_prefix(redis_url: str) -> Iterator[str]:
    """A key prefix for this run; every key under it is deleted at the end."""
    prefix = f"keyguard-test-{os.getpid()}-{secrets.token_hex(4)}:"

    async def check() -> None:
        client = aioredis.Redis.from_url(redis_url)
        try:
            await client.ping()
        except OSError as exc:
            pytest.fail(
                f"Redis does not answer at {redis_url} ({exc!r}); run the tests through"
                " scripts/test, which starts it, or set KEYGUARD_TEST_REDIS_URL",
                pytrace=False,
            )
        finally:
            await client.aclose()

    async def clean() -> None:
        client = aioredis.Redis.from_url(redis_url)
        try:
            async for key in client.scan_iter(match=f"{prefix}*"):
                await client.delete(key)
        finally:
            await client.aclose()

    asyncio.run(check())
    yield prefix
    asyncio.run(clean())


@pytest.fixture(autouse=True)
def no_key_in_logs(caplog: pytest.LogCaptureFixture) -> Iterator[None]:
    """Fail any test whose log lines (at any level) contain something shaped like a key."""
    caplog.set_level("DEBUG")
    yield
    for record in caplog.get_records("call") + caplog.get_records("setup"):
        if record.name == "httpx":  # the tests' own client, logging the URLs the tests send
            continue
        text = record.getMessage() + (record.exc_text or "")
        assert not KEY_SHAPE.search(text), f"a key value reached the log: {record.name}"
