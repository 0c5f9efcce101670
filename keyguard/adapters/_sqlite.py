"""The embedded default store: SQLite from the standard library, nothing to install.

One connection, used from one worker thread so the event loop never blocks on disk, and one
asyncio lock so a transaction's statements are never interleaved with other work. Several
processes may share a file: writes take SQLite's write lock (`BEGIN IMMEDIATE`) and wait for it.
"""

from __future__ import annotations

import asyncio
import logging
import re
import sqlite3
import time
from collections.abc import AsyncIterator, Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from contextlib import asynccontextmanager
from datetime import UTC, datetime, timedelta
from functools import lru_cache
from typing import Any, TypeVar
from urllib.parse import urlsplit

from keyguard.core import StoreUnavailableError, utcnow

from ._migrations import MIGRATIONS_TABLE, migrations
from ._sql_shapes import Row, Runner
from ._sql_store import SqlKeyStore, dedupe_latest

__all__ = ["SQLiteKeyStore"]

logger = logging.getLogger(__name__)
T = TypeVar("T")
_PLACEHOLDER = re.compile(r"\$(\d+)")
_AFTER_YEAR = "-%m-%dT%H:%M:%S.%fZ"
_TIME_FORMAT = (
    "%Y" + _AFTER_YEAR
)  # fixed width (years written with 4 digits): text order is time order
# How long opening waits for other processes' first migrations (or switch to WAL) on one file.
_START_PATIENCE = 10.0
_LOCKED = re.compile(r"database is locked|database table is locked|busy")
_BATCH_ROWS = 500  # two parameters a row, far below SQLite's limit on parameters


@lru_cache(maxsize=256)
def _to_sqlite(sql: str) -> str:
    return _PLACEHOLDER.sub(r"?\1", sql)


class _Runner:
    def __init__(self, store: SQLiteKeyStore) -> None:
        self._store = store

    async def fetch(self, sql: str, *args: Any) -> list[Row]:
        return await self._store._call(lambda c: c.execute(_to_sqlite(sql), args).fetchall())

    async def execute(self, sql: str, *args: Any) -> None:
        await self._store._call(lambda c: c.execute(_to_sqlite(sql), args))


class SQLiteKeyStore(SqlKeyStore):
    """A key store in one SQLite file (or `:memory:`); the schema is created on first use."""

    quota_field = "json_extract(quota, '$.{0}')"

    def __init__(self, path: str = "keyguard.db", *, timeout: float = 2.0) -> None:
        self.path = path
        self._busy_timeout = timeout  # how long a statement waits for another process's lock
        self._conn: sqlite3.Connection | None = None
        self._thread: ThreadPoolExecutor | None = None
        self._lock = asyncio.Lock()
        self._applied: list[int] = []

    @classmethod
    def from_url(cls, url: str, **options: Any) -> SQLiteKeyStore:
        """`sqlite:///relative.db`, `sqlite:////absolute.db`, `sqlite:///:memory:` or `sqlite://`."""
        parts = urlsplit(url)
        if parts.scheme != "sqlite":
            raise ValueError("a SQLite URL starts with sqlite://")
        path = parts.path[1:] if parts.path.startswith("/") else parts.path
        return cls(path or ":memory:", **options)

    def __repr__(self) -> str:
        return f"SQLiteKeyStore(path={self.path!r})"

    async def open(self) -> None:
        if self._conn is not None:
            return
        self._thread = ThreadPoolExecutor(1, thread_name_prefix="keyguard-sqlite")
        loop = asyncio.get_running_loop()
        try:
            self._conn = await loop.run_in_executor(self._thread, self._connect)
        except sqlite3.Error as exc:
            self._thread.shutdown(wait=False)
            self._thread = None
            raise StoreUnavailableError(f"cannot open SQLite database {self.path}: {exc}") from None

    def _connect(self) -> sqlite3.Connection:
        conn = sqlite3.connect(
            self.path, timeout=self._busy_timeout, isolation_level=None, check_same_thread=False
        )
        try:
            conn.row_factory = sqlite3.Row
            self._applied = _while_locked(lambda: _prepare(conn, self.path), _START_PATIENCE)
        except BaseException:
            conn.close()
            raise
        return conn

    async def migrate(self) -> list[int]:
        """Schema changes apply on open; this returns the versions that opening applied."""
        await self.open()
        return list(self._applied)

    async def close(self) -> None:
        async with self._lock:
            if self._conn is not None:
                conn, self._conn = self._conn, None
                assert self._thread is not None
                await asyncio.get_running_loop().run_in_executor(self._thread, conn.close)
                self._thread.shutdown(wait=True)
                self._thread = None

    async def _call(self, fn: Callable[[sqlite3.Connection], T]) -> T:
        conn, thread = self._conn, self._thread
        if conn is None or thread is None:
            raise StoreUnavailableError("the SQLite store is not open")
        try:
            return await asyncio.get_running_loop().run_in_executor(thread, fn, conn)
        except sqlite3.Error as exc:
            raise StoreUnavailableError(f"SQLite failed: {type(exc).__name__}") from None

    @asynccontextmanager
    async def _session(self) -> AsyncIterator[_Runner]:
        async with self._lock:
            yield _Runner(self)

    @asynccontextmanager
    async def _writer(self, account: str | None) -> AsyncIterator[_Runner]:
        # One connection and one lock: the whole database is the account lock.
        async with self._lock:
            runner = _Runner(self)
            try:
                await runner.execute("BEGIN IMMEDIATE")
                yield runner
            except BaseException:
                # Shielded and in the worker thread, after whatever it is still running (a
                # BEGIN whose caller was cancelled still begins): never a transaction left open.
                await asyncio.shield(self._call(_roll_back))
                raise
            await runner.execute("COMMIT")

    def ago(self, placeholder: str, seconds: float) -> tuple[str, Any]:
        # One host's clock: processes sharing a SQLite file share the machine it is on.
        return placeholder, self.encode_time(utcnow() - timedelta(seconds=seconds))

    async def append_change(self, runner: Runner, key_id: str, digest: bytes, event: str) -> int:
        # `BEGIN IMMEDIATE` made this transaction the only writer: `seq`s commit in order.
        rows = await runner.fetch(
            "INSERT INTO keyguard_changes (key_id, digest, event, occurred_at)"
            " VALUES ($1, $2, $3, $4) RETURNING seq",
            *(key_id, digest, event, self.encode_time(utcnow())),
        )
        seq = int(rows[0]["seq"])
        await runner.execute("UPDATE keyguard_keys SET version = $1 WHERE id = $2", seq, key_id)
        return seq

    async def watch_changes(self, wake: Callable[[], None]) -> None:
        """SQLite cannot tell other processes of a commit: readers poll the log alone."""
        del wake

    def encode_time(self, at: datetime | None) -> str | None:
        if at is None:
            return None
        # Four digits of year whatever the year: strftime("%Y") writes 999, not 0999, and
        # then text order (what SQLite compares) would no longer be time order.
        at = at.astimezone(UTC)
        return f"{at.year:04d}{at.strftime(_AFTER_YEAR)}"

    def decode_time(self, value: Any) -> datetime | None:
        return None if value is None else datetime.strptime(value, _TIME_FORMAT).replace(tzinfo=UTC)

    async def record_last_used(self, batch: Sequence[tuple[str, datetime]]) -> None:
        rows = list(dedupe_latest(batch).items())
        for start in range(0, len(rows), _BATCH_ROWS):
            chunk = rows[start : start + _BATCH_ROWS]
            values = ", ".join("(?, ?)" for _ in chunk)
            args = [v for key_id, at in chunk for v in (key_id, self.encode_time(at))]
            sql = (
                "UPDATE keyguard_keys AS k SET last_used_at = v.column2"
                f" FROM (VALUES {values}) AS v WHERE k.id = v.column1"
                " AND (k.last_used_at IS NULL OR k.last_used_at < v.column2)"
            )
            async with self._lock:
                await _Runner(self).execute(sql, *args)


def _roll_back(conn: sqlite3.Connection) -> None:
    if conn.in_transaction:
        conn.execute("ROLLBACK")


def _prepare(conn: sqlite3.Connection, path: str) -> list[int]:
    if path != ":memory:":
        conn.execute("PRAGMA journal_mode=WAL")
    conn.execute("PRAGMA synchronous=NORMAL")
    return _migrate(conn)


def _while_locked(step: Callable[[], T], patience: float) -> T:
    """`step()`, tried again while another process holds the lock it needs. SQLite answers
    some conflicts at once, without waiting on its busy handler (a switch to WAL while another
    connection does the same, say): processes started together on a new file would otherwise
    fail to start, one in thirty or so."""
    deadline = time.monotonic() + patience
    while True:
        try:
            return step()
        except sqlite3.OperationalError as exc:
            if not _LOCKED.search(str(exc)) or time.monotonic() >= deadline:
                raise
        time.sleep(0.02)


def _migrate(conn: sqlite3.Connection) -> list[int]:
    conn.execute(
        f"CREATE TABLE IF NOT EXISTS {MIGRATIONS_TABLE}"
        " (version INTEGER PRIMARY KEY, name TEXT NOT NULL, applied_at TEXT NOT NULL)"
    )
    conn.execute("BEGIN IMMEDIATE")
    applied = []
    try:
        done = {row[0] for row in conn.execute(f"SELECT version FROM {MIGRATIONS_TABLE}")}
        for migration in migrations("sqlite"):
            if migration.version in done:
                continue
            logger.info("applying SQLite migration %04d_%s", migration.version, migration.name)
            for statement in migration.sql.split(";"):
                if statement.strip():
                    conn.execute(statement)
            conn.execute(
                f"INSERT INTO {MIGRATIONS_TABLE} VALUES (?, ?, ?)",
                (migration.version, migration.name, datetime.now(UTC).isoformat()),
            )
            applied.append(migration.version)
        conn.execute("COMMIT")
    except BaseException:
        conn.execute("ROLLBACK")
        raise
    return applied
