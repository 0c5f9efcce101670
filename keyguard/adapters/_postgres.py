"""The production store: PostgreSQL through an asyncpg pool.

asyncpg prepares and caches every statement per connection; behind PgBouncer in transaction
mode set `statement_cache_size=0`. The schema comes from versioned migrations applied by
`migrate()` (`keyguard migrate`); `open()` refuses a database that lacks them.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import AsyncIterator, Sequence
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import asyncpg

from keyguard.core import SchemaNotMigratedError, StoreUnavailableError

from ._migrations import MIGRATIONS_TABLE, latest_version, migrations
from ._sql_shapes import Row
from ._sql_store import SqlKeyStore, dedupe_latest

__all__ = ["PostgresKeyStore", "mask_url"]

logger = logging.getLogger(__name__)
_CONNECTION_ERRORS = (OSError, asyncio.TimeoutError, asyncpg.PostgresConnectionError)
# Errors that say the store is unreachable or failing, as opposed to a bug in a query.
_UNAVAILABLE_ERRORS = (
    *_CONNECTION_ERRORS,
    asyncpg.InterfaceError,
    asyncpg.InternalClientError,  # e.g. a pooled connection whose backend was just terminated
    asyncpg.OperatorInterventionError,  # class 57: shutdown, admin termination, cannot connect now
    asyncpg.ObjectNotInPrerequisiteStateError,  # class 55: e.g. connections not allowed now
    asyncpg.InsufficientResourcesError,  # class 53: too many connections, disk full
    asyncpg.QueryCanceledError,
)
# Retrying cannot fix these: wrong credentials, or no such database.
_FINAL_CONNECT_ERRORS = (
    asyncpg.InvalidAuthorizationSpecificationError,
    asyncpg.InvalidPasswordError,
    asyncpg.InvalidCatalogNameError,
)
_MIGRATION_LOCK = 0x6B6579677561  # "keygua": serializes concurrent `keyguard migrate` runs


async def _no_reset(conn: Any) -> None:
    return None


def mask_url(url: str) -> str:
    """The URL with its password replaced by `***`, for logs and reprs."""
    parts = urlsplit(url)
    if parts.password is None:
        return url
    host = parts.hostname or ""
    netloc = f"{parts.username}:***@{host}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


class _Runner:
    def __init__(self, conn: Any) -> None:
        self._conn = conn

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return list(await self._conn.fetch(sql, *args))

    async def execute(self, sql: str, *args: Any) -> None:
        await self._conn.execute(sql, *args)


class PostgresKeyStore(SqlKeyStore):
    def __init__(
        self,
        dsn: str,
        *,
        min_size: int = 1,
        max_size: int = 10,
        statement_cache_size: int = 100,
        command_timeout: float = 5.0,
        connect_timeout: float = 5.0,
        connect_attempts: int = 3,
    ) -> None:
        self.dsn = dsn
        self._pool_options = {
            "min_size": min_size,
            "max_size": max_size,
            "statement_cache_size": statement_cache_size,
            "command_timeout": command_timeout,
            "timeout": connect_timeout,
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

    async def _connect(self) -> None:
        if self._pool is not None:
            return
        for attempt in range(1, self._connect_attempts + 1):
            try:
                self._pool = await asyncpg.create_pool(self.dsn, **self._pool_options)
                return
            except _FINAL_CONNECT_ERRORS as exc:
                where = f"PostgreSQL at {mask_url(self.dsn)}"
                raise StoreUnavailableError(
                    f"cannot use {where}: {exc.__class__.__name__}"
                ) from None
            except _CONNECTION_ERRORS as exc:
                logger.warning(
                    "PostgreSQL at %s: connect attempt %d of %d failed: %s",
                    mask_url(self.dsn),
                    attempt,
                    self._connect_attempts,
                    type(exc).__name__,
                )
                if attempt == self._connect_attempts:
                    where = f"PostgreSQL at {mask_url(self.dsn)}"
                    raise StoreUnavailableError(
                        f"cannot connect to {where}: {type(exc).__name__}"
                    ) from None
                await asyncio.sleep(0.2 * 2**attempt)

    async def _schema_version(self) -> int:
        async with self._reader() as runner:
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
        """Apply pending migrations, each in its own transaction; return the versions applied."""
        await self._connect()
        applied: list[int] = []
        async with self._connection() as conn, conn.transaction():
            await conn.execute("SELECT pg_advisory_xact_lock($1)", _MIGRATION_LOCK)
            await conn.execute(
                f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE} (version integer PRIMARY KEY,"
                " name text NOT NULL, applied_at timestamptz NOT NULL DEFAULT now())"
            )
            done = {
                r["version"] for r in await conn.fetch(f"SELECT version FROM {MIGRATIONS_TABLE}")
            }
            for migration in migrations("postgres"):
                if migration.version not in done:
                    logger.info("applying migration %04d_%s", migration.version, migration.name)
                    await conn.execute(migration.sql)
                    await conn.execute(
                        f"INSERT INTO {MIGRATIONS_TABLE} (version, name) VALUES ($1, $2)",
                        migration.version,
                        migration.name,
                    )
                    applied.append(migration.version)
        return applied

    async def close(self) -> None:
        if self._pool is not None:
            pool, self._pool = self._pool, None
            await pool.close()

    @asynccontextmanager
    async def _connection(self) -> AsyncIterator[Any]:
        if self._pool is None:
            raise StoreUnavailableError("the PostgreSQL store is not open")
        try:
            async with self._pool.acquire() as conn:
                yield conn
        except _UNAVAILABLE_ERRORS as exc:
            raise StoreUnavailableError(f"PostgreSQL failed: {type(exc).__name__}") from None

    @asynccontextmanager
    async def _reader(self) -> AsyncIterator[_Runner]:
        async with self._connection() as conn:
            yield _Runner(conn)

    @asynccontextmanager
    async def _writer(self, account: str) -> AsyncIterator[_Runner]:
        async with self._connection() as conn, conn.transaction():
            # Changes within one account queue here, so per-account rules see a settled state.
            await conn.execute(
                "SELECT pg_advisory_xact_lock(hashtextextended($1, 0))", f"keyguard:{account}"
            )
            yield _Runner(conn)

    def encode_time(self, at: datetime | None) -> datetime | None:
        return at

    def decode_time(self, value: Any) -> datetime | None:
        return value  # type: ignore[no-any-return]

    async def record_last_used(self, batch: Sequence[tuple[str, datetime]]) -> None:
        latest = dedupe_latest(batch)
        async with self._reader() as runner:
            await runner.execute(
                "UPDATE keyguard_keys AS k SET last_used_at = v.at"
                " FROM unnest($1::text[], $2::timestamptz[]) AS v(id, at)"
                " WHERE k.id = v.id AND (k.last_used_at IS NULL OR k.last_used_at < v.at)",
                list(latest),
                list(latest.values()),
            )
