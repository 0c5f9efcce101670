"""Fixtures for the end-to-end tests: guards driven in-process, a Redis of their own to kill,
a link to PostgreSQL to cut or hang, and a database of their own to lock out."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import asyncpg
import pytest
import redis.asyncio as aioredis

from keyguard import KeyGuard, PostgresKeyStore, Settings

from ._faults import FaultyLink
from ._servers import RedisServer
from ._support import PEPPER, InProcess, with_port

MakeGuard = Callable[..., Awaitable[InProcess]]


def admin_url(database_url: str) -> str:
    return urlsplit(database_url)._replace(path="/postgres").geturl()


@pytest.fixture
def account() -> str:
    """A fresh account name, so tests never see each other's keys."""
    return f"e2e-{secrets.token_hex(6)}"


@pytest.fixture
def settings(pg_database_url: str, redis_url: str, redis_prefix: str) -> Settings:
    """The shared PostgreSQL database and the real Redis, under this run's prefix."""
    return Settings(
        database_url=pg_database_url,
        redis_url=redis_url,
        pepper=PEPPER,
        redis_prefix=redis_prefix,
    )


@pytest.fixture
async def make_guard() -> AsyncIterator[MakeGuard]:
    """`await make_guard(settings, store=..., start=True)`: a guard behind the middleware,
    stopped (and its client closed) at teardown."""
    made: list[InProcess] = []

    async def make(settings: Settings, *, start: bool = True, **options: Any) -> InProcess:
        guarded = InProcess(KeyGuard(settings, **options))
        made.append(guarded)
        if start:
            await guarded.guard.start()
        return guarded

    try:
        yield make
    finally:
        for guarded in reversed(made):
            try:
                await guarded.aclose()
            finally:
                await guarded.guard.stop()


@pytest.fixture
async def redis_client(redis_url: str) -> AsyncIterator[aioredis.Redis]:
    """A client of the real Redis, for tests that read or write entries themselves."""
    client = aioredis.Redis.from_url(redis_url)
    try:
        yield client
    finally:
        await client.aclose()


@pytest.fixture
def redis_server(tmp_path: Path) -> Iterator[RedisServer]:
    """A `redis-server` of this test's own, on a free port, killed at teardown."""
    server = RedisServer(tmp_path)
    try:
        server.start()
        yield server
    finally:
        server.kill()


@pytest.fixture
def pg_link(pg_database_url: str) -> Iterator[FaultyLink]:
    """A link to the real PostgreSQL the test can cut, hang or slow (`pg_link.cut()`)."""
    target = urlsplit(pg_database_url)
    link = FaultyLink(target.hostname or "127.0.0.1", target.port or 5432)
    try:
        yield link
    finally:
        link.close()


@pytest.fixture
def proxied_url(pg_database_url: str, pg_link: FaultyLink) -> str:
    return with_port(pg_database_url, pg_link.port)


@pytest.fixture
async def own_database(pg_database_url: str) -> AsyncIterator[str]:
    """A migrated database for one test (it may lock everyone out of it), dropped after."""
    name = f"keyguard_e2e_{secrets.token_hex(6)}"
    admin = await asyncpg.connect(admin_url(pg_database_url), timeout=10)
    try:
        await admin.execute(f'CREATE DATABASE "{name}"')
    except BaseException:
        await admin.close()
        raise
    try:
        url = urlsplit(pg_database_url)._replace(path=f"/{name}").geturl()
        store = PostgresKeyStore(url)
        try:
            await store.migrate()
        finally:
            await store.close()
        yield url
    finally:
        await admin.execute(f'ALTER DATABASE "{name}" ALLOW_CONNECTIONS true')
        await admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        await admin.close()
