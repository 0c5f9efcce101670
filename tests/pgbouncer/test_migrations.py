"""Migrations through PgBouncer in transaction mode work, and are safe: the migration lock is a
transaction-scoped advisory lock taken inside the one transaction that applies every pending
migration, so it holds on whichever server connection PgBouncer picks (a session lock would be
taken on one and released, or not, on another)."""

from __future__ import annotations

import asyncio
import subprocess
import sys
from pathlib import Path

import asyncpg

from keyguard import PostgresKeyStore
from keyguard.adapters._migrations import MIGRATIONS_TABLE, migrations
from tests.e2e._servers import clean_env

from ._pgbouncer import PgBouncer

CONSOLE_SCRIPT = str(Path(sys.executable).parent / "keyguard")
EVERY_VERSION = [m.version for m in migrations("postgres")]


async def _versions_applied(direct_url: str) -> list[int]:
    conn = await asyncpg.connect(direct_url)
    try:
        rows = await conn.fetch(f"SELECT version FROM {MIGRATIONS_TABLE} ORDER BY version")
    finally:
        await conn.close()
    return [row["version"] for row in rows]


async def test_migrations_started_together_run_once(
    pgbouncer: PgBouncer, empty_pg_database_url: str
) -> None:
    stores = [
        PostgresKeyStore(pgbouncer.url(empty_pg_database_url), statement_cache_size=0)
        for _ in range(3)
    ]
    try:
        applied = await asyncio.gather(*(store.migrate() for store in stores))
        await stores[0].open()  # the schema is complete, as seen through PgBouncer
    finally:
        await asyncio.gather(*(store.close() for store in stores))
    assert sorted(applied, key=len) == [[], [], EVERY_VERSION]
    assert await _versions_applied(empty_pg_database_url) == EVERY_VERSION


def _cli_migrate(database_url: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [CONSOLE_SCRIPT, "--database-url", database_url, "migrate"],
        env=clean_env(KEYGUARD_STATEMENT_CACHE_SIZE="0"),
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )


async def test_keyguard_migrate_through_pgbouncer(
    pgbouncer: PgBouncer, empty_pg_database_url: str
) -> None:
    url = pgbouncer.url(empty_pg_database_url)
    first, second = await asyncio.gather(
        asyncio.to_thread(_cli_migrate, url), asyncio.to_thread(_cli_migrate, url)
    )
    assert (first.returncode, second.returncode) == (0, 0), first.stderr + second.stderr
    said = sorted(first.stderr.strip().splitlines()[-1:] + second.stderr.strip().splitlines()[-1:])
    assert said[0].startswith("Applied migrations 0001, "), said
    assert said[1].startswith("The schema of ") and said[1].endswith(" is up to date."), said
    assert await _versions_applied(empty_pg_database_url) == EVERY_VERSION
