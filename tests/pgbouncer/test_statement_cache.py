"""A user who forgets `statement_cache_size=0` behind PgBouncer in transaction mode: asyncpg's
cached statements live on server connections PgBouncer hands to others and replaces (here by
RECONNECT, in production by `server_lifetime`), so they get lost. keyguard warns at start-up,
answers 503 (never a 500, never a wrong answer) and says in one line how to fix it."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator, Iterator

import pytest

from keyguard import KeyGuard, PostgresKeyStore, Settings, StoreUnavailableError
from keyguard.adapters._postgres_pooler import STATEMENT_CACHE_ADVICE
from tests.conftest import migrated_database
from tests.e2e._support import PEPPER, InProcess

from ._pgbouncer import PgBouncer

FIX = "KEYGUARD_STATEMENT_CACHE_SIZE=0"


@pytest.fixture
def own_database() -> Iterator[str]:
    """A database of the test's own: no other client's statements on its server connections."""
    for _, url in migrated_database("keyguard_pgbouncer"):
        yield url


def _lines(caplog: pytest.LogCaptureFixture, level: int) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno == level]


async def test_a_lost_statement_is_a_store_failure_that_names_the_fix(
    pgbouncer: PgBouncer, own_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = PostgresKeyStore(pgbouncer.url(own_database), min_size=1, max_size=1)
    await store.open()
    try:
        assert [line for line in _lines(caplog, logging.WARNING) if FIX in line], (
            "no start-up warning about the pooler"
        )
        assert await store.last_change() == 0  # prepared, and run, on one server connection
        await pgbouncer.reconnect_servers()
        with pytest.raises(StoreUnavailableError) as raised:
            await store.last_change()
        assert str(raised.value) == f"PostgreSQL failed: {STATEMENT_CACHE_ADVICE}"
        assert _lines(caplog, logging.ERROR) == [f"PostgreSQL failed: {STATEMENT_CACHE_ADVICE}"]
    finally:
        await store.close()


async def test_with_the_cache_off_nothing_is_lost_and_nothing_warns(
    pgbouncer: PgBouncer, own_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = PostgresKeyStore(pgbouncer.url(own_database), statement_cache_size=0, max_size=1)
    await store.open()
    try:
        assert await store.last_change() == 0
        await pgbouncer.reconnect_servers()
        assert await store.last_change() == 0
        assert _lines(caplog, logging.WARNING) + _lines(caplog, logging.ERROR) == []
    finally:
        await store.close()


async def test_a_direct_connection_is_not_taken_for_a_pooler(
    own_database: str, caplog: pytest.LogCaptureFixture
) -> None:
    store = PostgresKeyStore(own_database)
    await store.open()
    await store.close()
    assert _lines(caplog, logging.WARNING) == []


@pytest.fixture
async def misconfigured(pgbouncer: PgBouncer, own_database: str) -> AsyncIterator[InProcess]:
    """A guard through PgBouncer with the default statement cache, on one connection (so every
    statement it runs is cached where the next request will meet it)."""
    url = pgbouncer.url(own_database)
    settings = Settings(database_url=url, pepper=PEPPER, change_notifications=False)
    guard = KeyGuard(settings, store=PostgresKeyStore(url, min_size=1, max_size=1))
    async with guard:
        target = InProcess(guard)
        yield target
        await target.aclose()


async def test_requests_get_a_503_never_a_500_nor_a_wrong_answer(
    misconfigured: InProcess, pgbouncer: PgBouncer, caplog: pytest.LogCaptureFixture
) -> None:
    manager = misconfigured.guard.manager
    made = [
        await manager.create(account="pgb", name=name, environment="live", access="secret")
        for name in ("seen", "unseen", "revoked")
    ]
    seen, unseen, revoked = (created.value for created in made)
    await manager.revoke(made[2].record.id)
    assert await misconfigured.status(seen) == 200  # the key lookup, prepared and run
    assert await misconfigured.status(revoked) == 401
    await pgbouncer.reconnect_servers()
    assert await misconfigured.status(unseen) == 503
    assert await misconfigured.status(revoked) in {401, 503}  # refused as it was, or unknown
    assert f"PostgreSQL failed: {STATEMENT_CACHE_ADVICE}" in _lines(caplog, logging.ERROR)
