"""The production store: PostgreSQL through an asyncpg pool.

asyncpg prepares and caches every statement per connection; behind PgBouncer in transaction
mode set `statement_cache_size=0`. The schema comes from versioned migrations applied by
`migrate()` (`keyguard migrate`); `open()` refuses a database that lacks them.

Every call is bounded by `timeout`, pool wait included: a server that accepts connections but
never answers costs a caller at most that long, then `StoreUnavailableError`. Changes are
announced with NOTIFY in their own transaction; `watch_changes` LISTENs on a connection of its
own (not available behind PgBouncer in transaction mode: readers then poll the log alone).
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Callable, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit

import asyncpg

from keyguard.core import SchemaNotMigratedError, StoreUnavailableError

from ._migrations import MIGRATIONS_TABLE, latest_version, migrations
from ._postgres_errors import (
    DRIVER_ERRORS,
    FINAL_CONNECT_ERRORS,
    UNAVAILABLE_ERRORS,
    describe,
)
from ._postgres_listen import CHANGES_CHANNEL, listen_for_changes
from ._postgres_pooler import STATEMENT_CACHE_ADVICE, lost_prepared_statement, through_pooler
from ._sql_shapes import Row, Runner
from ._sql_store import SqlKeyStore, dedupe_latest
from ._urls import mask_url

__all__ = ["PostgresKeyStore"]

logger = logging.getLogger(__name__)
MIGRATION_LOCK = 0x6B6579677561  # "keygua": serializes concurrent `keyguard migrate` runs
_CHANGE_LOG_LOCK = 0x6B6779636C67  # "kgyclg": held from a change-log insert to its commit


async def _no_reset(conn: Any) -> None:
    return None


class _Runner:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return list(await self._conn.fetch(sql, *args))

    async def execute(self, sql: str, *args: Any) -> None:
        await self._conn.execute(sql, *args)


class PostgresKeyStore(SqlKeyStore):
    row_lock = " FOR UPDATE"
    quota_field = "(quota->>'{0}')::bigint"

    def __init__(
        self,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        statement_cache_size: int = 100,
        timeout: float = 2.0,
        connect_attempts: int = 3,
        migration_timeout: float = 300.0,
    ) -> None:
        self.dsn = dsn
        self.timeout = timeout
        self.migration_timeout = migration_timeout
        self._pool_options = {
            "min_size": min_size,
            "max_size": max_size,
            "statement_cache_size": statement_cache_size,
            "command_timeout": timeout,
            "timeout": timeout,  # per connection attempt
            # asyncpg's default reset is a second round trip on every release (unlisten, unlock,
            # RESET ALL). keyguard sets no session state, takes only transaction-scoped locks,
            # and asyncpg still rolls back an open transaction on release.
            "reset": _no_reset,
        }
        self._connect_attempts = connect_attempts
        self._pool: Any = None

    @classmethod
    def from_url(cls, url: str, **options: Any) -> PostgresKeyStore:
        if urlsplit(url).scheme not in {"postgres", "postgresql"}:
            raise ValueError("a PostgreSQL URL starts with postgresql://")
        return cls(url, **options)

    def __repr__(self) -> str:
        return f"PostgresKeyStore(dsn={mask_url(self.dsn)!r})"

    async def open(self) -> None:
        await self._connect()
        have = await self._schema_version()
        if have != latest_version("postgres"):
            raise SchemaNotMigratedError(have, latest_version("postgres"))
        if self._pool_options["statement_cache_size"]:
            async with self._connection() as conn:
                pooled = await through_pooler(conn)
            if pooled:
                logger.warning(
                    "PostgreSQL at %s is reached through a connection pooler: if it is PgBouncer"
                    " in transaction mode, set KEYGUARD_STATEMENT_CACHE_SIZE=0 (every query will"
                    " fail otherwise)",
                    mask_url(self.dsn),
                )

    async def _connect(self) -> None:
        if self._pool is not None:
            return
        where = f"PostgreSQL at {mask_url(self.dsn)}"
        for attempt in range(1, self._connect_attempts + 1):
            try:
                self._pool = await asyncpg.create_pool(self.dsn, **self._pool_options)
                return
            except ValueError as exc:  # the URL itself: no retry helps
                raise ValueError(_bad_url(exc)) from None
            except FINAL_CONNECT_ERRORS as exc:
                raise StoreUnavailableError(f"cannot use {where}: {describe(exc)}") from None
            except UNAVAILABLE_ERRORS as exc:  # down, starting up, out of connections: retried
                logger.warning(
                    "%s: connect attempt %d of %d failed: %s",
                    *(where, attempt, self._connect_attempts, describe(exc)),
                )
                if attempt == self._connect_attempts:
                    raise StoreUnavailableError(
                        f"cannot connect to {where}: {describe(exc)}"
                    ) from None
                await asyncio.sleep(0.2 * 2**attempt)
            except DRIVER_ERRORS as exc:
                raise StoreUnavailableError(f"cannot use {where}: {describe(exc)}") from None

    async def _schema_version(self) -> int:
        async with self._connection() as conn:
            runner = _Runner(conn)
            rows = await runner.fetch(
                "SELECT to_regclass($1) IS NOT NULL AS present", MIGRATIONS_TABLE
            )
            if not rows[0]["present"]:
                return 0
            rows = await runner.fetch(
                f"SELECT coalesce(max(version), 0) AS v FROM {MIGRATIONS_TABLE}"
            )
        return int(rows[0]["v"])

    async def migrate(self) -> list[int]:
        """Apply pending migrations in one transaction, waiting for any other `migrate` (each
        statement within `migration_timeout`, not the store timeout); the versions applied."""
        await self._connect()
        applied: list[int] = []
        bound = self.migration_timeout
        async with self._connection(bound) as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", MIGRATION_LOCK, timeout=bound)
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (version integer PRIMARY KEY,"
                " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())",
                timeout=bound,
            )
            rows = await conn.fetch(f"SELECT version FROM {MIGRATIONS_TABLE}", timeout=bound)
            done = {r["version"] for r in rows}
            for migration in migrations("postgres"):
                if migration.version not in done:
                    logger.info("applying migration %04d_%s", migration.version, migration.name)
                    await conn.execute(migration.sql, timeout=bound)
                    await conn.execute(
                        f"INSERT INTO {MIGRATIONS_TABLE} (version, name) VALUES ($1, $2)",
                        *(migration.version, migration.name),
                        timeout=bound,
                    )
                    applied.append(migration.version)
        return applied

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            try:
                async with asyncio.timeout(self.timeout):
                    await pool.close()
            except TimeoutError:
                logger.warning("PostgreSQL connections did not close in time: dropped them")
                pool.terminate()

    @asynccontextmanager
    async def _connection(self, bound: float | None = None) -> AsyncIterator[Any]:
        """A pooled connection for one bounded unit of work (waiting for the pool included)."""
        pool = self._pool
        if pool is None:
            raise StoreUnavailableError("the PostgreSQL store is not open")
        conn = None
        try:
            async with asyncio.timeout(self.timeout if bound is None else bound):
                conn = await pool.acquire()
                yield conn
        except UNAVAILABLE_ERRORS as exc:
            if conn is not None and isinstance(exc, TimeoutError):
                # A query cut short leaves the connection mid-protocol: drop it rather than
                # wait (unbounded) for the server to confirm the cancel.
                conn.terminate()
            raise _failed(exc, describe(exc)) from None
        except DRIVER_ERRORS as exc:
            raise _failed(exc, None) from None
        finally:
            if conn is not None:
                # Shielded: a caller cancelled while giving the connection back (a guard
                # stopping its background work, say) must not leave it checked out for ever.
                await asyncio.shield(pool.release(conn, timeout=self.timeout))

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[_Runner]:
        async with self._connection() as conn:
            yield _Runner(conn)

    @asynccontextmanager
    async def _writer(self, account: str | None) -> AsyncIterator[_Runner]:
        async with self._connection() as conn, conn.transaction():
            if account is not None:
                # Changes within one account queue here, so per-account rules see a settled state.
                await conn.execute(
                    "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"keyguard:{account}"
                )
            yield _Runner(conn)

    def ago(self, placeholder: str, seconds: float) -> tuple[str, Any]:
        return f"now() - make_interval(secs => {placeholder}::float8)", float(seconds)

    async def append_change(self, runner: Runner, key_id: str, digest: bytes, event: str) -> int:
        # Taken last and held to the commit: `seq`s commit in order, so no reader that has seen
        # `seq` n can later meet a smaller one.
        await runner.execute("SELECT pg_advisory_xact_lock($1)", _CHANGE_LOG_LOCK)
        rows = await runner.fetch(
            "INSERT INTO keyguard_changes (key_id, digest, event, occurred_at)"
            # The clock, not the transaction's start: as near the commit as the log can say.
            " VALUES ($1, $2, $3, clock_timestamp()) RETURNING seq",
            *(key_id, digest, event),
        )
        seq = int(rows[0]["seq"])
        await runner.execute("UPDATE keyguard_keys SET version = $1 WHERE id = $2", seq, key_id)
        await runner.execute("SELECT pg_notify($1, $2)", CHANGES_CHANNEL, str(seq))
        return seq

    async def watch_changes(self, wake: Callable[[], None]) -> None:
        await listen_for_changes(self.dsn, wake, bound=self.timeout)

    def encode_time(self, at: datetime | None) -> datetime | None:
        return at

    def decode_time(self, value: Any) -> datetime | None:
        return value  # type: ignore[no-any-return]

    async def record_last_used(self, batch: Sequence[tuple[str, datetime]]) -> None:
        latest = dedupe_latest(batch)
        async with self._session() as runner:
            await runner.execute(
                "UPDATE keyguard_keys AS k SET last_used_at = v.at"
                " FROM unnest($1::text[], $2::timestamptz[]) AS v(id, at)"
                " WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.at)",
                list(latest),
                list(latest.values()),
            )


def _failed(exc: BaseException, words: str | None) -> StoreUnavailableError:
    """The error for a failed unit of work; `words` None for a failure nobody expected."""
    if lost_prepared_statement(exc):  # a misconfiguration: say how to fix it, every time
        logger.error("PostgreSQL failed: %s", STATEMENT_CACHE_ADVICE)
        return StoreUnavailableError(f"PostgreSQL failed: {STATEMENT_CACHE_ADVICE}")
    if words is None:
        logger.error("PostgreSQL failed unexpectedly: %s", type(exc).__name__)
        words = type(exc).__name__
    return StoreUnavailableError(f"PostgreSQL failed: {words}")


def _bad_url(exc: ValueError) -> str:
    # asyncpg's own words about a parameter are safe to show; a URL that does not even split
    # may have a piece of its password where the port should be, so neither it nor the
    # parser's complaint is repeated.
    if isinstance(exc, asyncpg.ClientConfigurationError):
        return f"the PostgreSQL URL is not usable: {exc}"
    return (
        "the PostgreSQL URL does not parse (a password holding / @ : or % must be percent-encoded)"
    )
