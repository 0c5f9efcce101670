"""What is particular to each adapter: URLs, migrations, connection failures, reprs."""

from __future__ import annotations

import asyncio
import logging
from pathlib import Path

import asyncpg
import pytest

from keyguard import (
    KeyHasher,
    KeyManager,
    KeyQuery,
    PostgresKeyStore,
    SchemaNotMigratedError,
    SQLiteKeyStore,
    StoreUnavailableError,
    store_from_url,
)
from keyguard.adapters._migrations import latest_version
from keyguard.adapters._postgres import MIGRATION_LOCK

ALL_MIGRATIONS = list(range(1, latest_version("postgres") + 1))


def test_store_from_url_picks_the_adapter() -> None:
    assert isinstance(store_from_url("sqlite:///k.db"), SQLiteKeyStore)
    assert store_from_url("sqlite:///k.db").path == "k.db"  # type: ignore[union-attr]
    assert store_from_url("sqlite:////var/k.db").path == "/var/k.db"  # type: ignore[union-attr]
    assert store_from_url("sqlite://").path == ":memory:"  # type: ignore[union-attr]
    assert isinstance(store_from_url("postgresql://u@h/db"), PostgresKeyStore)
    assert isinstance(store_from_url("postgres://u@h/db"), PostgresKeyStore)
    with pytest.raises(ValueError, match="unsupported") as caught:
        store_from_url("mysql://root:hunter2@h/db")
    assert "hunter2" not in str(caught.value)


def test_postgres_repr_masks_the_password() -> None:
    store = PostgresKeyStore("postgresql://app:hunter2@db.internal:5432/keys")
    assert "hunter2" not in repr(store)
    assert "app:***@db.internal:5432" in repr(store)


async def test_sqlite_memory_store_works_without_a_file() -> None:
    store = store_from_url("sqlite://")
    await store.open()
    manager = KeyManager(store)
    await manager.create(account="a", name="n", environment="test", access="secret")
    assert len((await manager.list(KeyQuery())).items) == 1
    await store.close()


async def test_two_sqlite_stores_on_one_file_see_each_others_changes(tmp_path: Path) -> None:
    # Several processes may share the embedded database: each has its own connection.
    path = str(tmp_path / "shared.db")
    one, two = SQLiteKeyStore(path), SQLiteKeyStore(path)
    await one.open()
    await two.open()
    hasher = KeyHasher("p")
    created = await KeyManager(one, hasher=hasher).create(
        account="a", name="n", environment="live", access="secret"
    )
    assert await two.find_by_digest(hasher.digest(created.value)) == created.record
    await KeyManager(two, hasher=hasher).revoke(created.record.id)
    found = await one.find_by_digest(hasher.digest(created.value))
    assert found is not None and found.revoked_at is not None
    await one.close()
    await two.close()


async def test_a_closed_sqlite_store_is_unavailable_not_broken(tmp_path: Path) -> None:
    store = SQLiteKeyStore(str(tmp_path / "k.db"))
    with pytest.raises(StoreUnavailableError):
        await store.find_by_digest(b"x" * 32)


async def test_an_unmigrated_postgres_database_says_to_run_migrate(
    empty_pg_database_url: str,
) -> None:
    store = PostgresKeyStore(empty_pg_database_url)
    with pytest.raises(SchemaNotMigratedError, match="run `keyguard migrate`"):
        await store.open()
    assert await store.migrate() == ALL_MIGRATIONS
    assert await store.migrate() == []
    await store.open()
    await store.close()


async def test_an_unreachable_postgres_is_retried_a_bounded_number_of_times(
    caplog: pytest.LogCaptureFixture,
) -> None:
    store = PostgresKeyStore(
        "postgresql://postgres:s3cret@127.0.0.1:1/none", connect_attempts=2, timeout=1
    )
    with pytest.raises(StoreUnavailableError) as caught:
        await store.open()
    attempts = [r for r in caught_records(caplog) if "connect attempt" in r]
    assert len(attempts) == 2
    assert "s3cret" not in str(caught.value) and not any("s3cret" in r for r in attempts)


def caught_records(caplog: pytest.LogCaptureFixture) -> list[str]:
    return [r.getMessage() for r in caplog.records if r.levelno >= logging.WARNING]


async def test_postgres_works_without_a_statement_cache(pg_database_url: str) -> None:
    # PgBouncer in transaction mode cannot keep prepared statements across transactions.
    store = PostgresKeyStore(pg_database_url, statement_cache_size=0)
    await store.open()
    manager = KeyManager(store)
    created = await manager.create(account="bouncer", name="n", environment="test", access="secret")
    assert await store.find_by_digest(manager.hasher.digest(created.value)) == created.record
    await store.close()


async def test_a_postgres_outage_during_use_is_store_unavailable(pg_database_url: str) -> None:
    store = PostgresKeyStore(pg_database_url)
    await store.open()
    await store.close()
    with pytest.raises(StoreUnavailableError):
        await store.find_by_digest(b"x" * 32)


async def test_migrate_waits_for_another_migrate_longer_than_the_store_timeout(
    empty_pg_database_url: str,
) -> None:
    """Two `keyguard migrate` at once: the second waits for the first's lock, bounded by the
    migration timeout, not failed by the 2 s (here 0.5 s) timeout of ordinary calls."""
    holder = await asyncpg.connect(empty_pg_database_url)
    store = PostgresKeyStore(empty_pg_database_url, timeout=0.5, migration_timeout=30)
    try:
        async with holder.transaction():
            await holder.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK)
            waiting = asyncio.create_task(store.migrate())
            await asyncio.sleep(1.5)
            assert not waiting.done(), "it gave up, or did not wait for the lock"
        assert await waiting == ALL_MIGRATIONS
    finally:
        await holder.close()
        await store.close()
