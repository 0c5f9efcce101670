"""What the SQLite and Postgres stores share: the queries, written once with `$n` placeholders,
and the mapping between rows and records. Each adapter supplies connections and time encoding."""

from __future__ import annotations

import abc
import json
from collections.abc import AsyncIterator, Mapping, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import UTC, datetime
from typing import Any, Protocol

from keyguard.core import (
    Access,
    AccountSettings,
    AuditEvent,
    AuditEventType,
    AuditQuery,
    KeyQuery,
    KeyRecord,
    KeySort,
    KeyStatus,
    Page,
    ValidationError,
    decode_cursor,
    encode_cursor,
    freeze_mapping,
)
from keyguard.ports import KeyTransaction, StoredKey

__all__ = ["Row", "Runner", "SqlKeyStore"]

Row = Mapping[str, Any]
KEY_COLUMNS = (
    "id, account, owner, name, environment, access, prefix, last4, metadata,"
    " created_at, last_used_at, revoked_at, expires_at, replaced_by"
)
AUDIT_COLUMNS = "id, account, event, key_id, actor, request_id, occurred_at, data"
_NEVER_USED = datetime(1, 1, 1, tzinfo=UTC)  # sorts NULL last-used times before all others
_SORT_EXPRESSIONS = {
    "createdAt": "created_at",
    "name": "name",
    "lastUsedAt": "coalesce(last_used_at, {never})",
}


class Runner(Protocol):
    """One connection, or one open transaction on it."""

    async def fetch(self, sql: str, *args: Any) -> list[Row]: ...

    async def execute(self, sql: str, *args: Any) -> None: ...


class _Params:
    """Collects query arguments and hands out `$n` placeholders for them."""

    def __init__(self) -> None:
        self.args: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"


def _like_pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


class SqlKeyStore(abc.ABC):
    """A `KeyStore` over SQL; subclasses provide connections, time encoding and batch updates."""

    @abc.abstractmethod
    def _reader(self) -> AbstractAsyncContextManager[Runner]: ...

    @abc.abstractmethod
    def _writer(self, account: str) -> AbstractAsyncContextManager[Runner]:
        """A transaction holding a lock on `account` until it commits or rolls back."""

    @abc.abstractmethod
    def encode_time(self, at: datetime | None) -> Any: ...

    @abc.abstractmethod
    def decode_time(self, value: Any) -> datetime | None: ...

    def key_from_row(self, row: Row) -> KeyRecord:
        return KeyRecord(
            id=row["id"],
            account=row["account"],
            owner=row["owner"],
            name=row["name"],
            environment=row["environment"],
            access=Access(row["access"]),
            prefix=row["prefix"],
            last4=row["last4"],
            metadata=freeze_mapping(json.loads(row["metadata"])),
            created_at=self._time(row["created_at"]),
            last_used_at=self.decode_time(row["last_used_at"]),
            revoked_at=self.decode_time(row["revoked_at"]),
            expires_at=self.decode_time(row["expires_at"]),
            replaced_by=row["replaced_by"],
        )

    def _time(self, value: Any) -> datetime:
        at = self.decode_time(value)
        assert at is not None  # NOT NULL column
        return at

    @asynccontextmanager
    async def transaction(self, account: str) -> AsyncIterator[KeyTransaction]:
        async with self._writer(account) as runner:
            yield _SqlTransaction(self, runner, account)

    async def find_by_digest(self, digest: bytes) -> KeyRecord | None:
        sql = f"SELECT {KEY_COLUMNS} FROM keyguard_keys WHERE digest = $1"
        async with self._reader() as runner:
            rows = await runner.fetch(sql, digest)
        return self.key_from_row(rows[0]) if rows else None

    async def rehash(
        self, key_id: str, old_digest: bytes, new_digest: bytes, hash_version: str
    ) -> bool:
        sql = (
            "UPDATE keyguard_keys SET digest = $1, hash_version = $2"
            " WHERE id = $3 AND digest = $4 RETURNING id"
        )
        async with self._reader() as runner:
            rows = await runner.fetch(sql, new_digest, hash_version, key_id, old_digest)
        return bool(rows)

    async def get_key(self, key_id: str, account: str | None = None) -> KeyRecord | None:
        p = _Params()
        sql = f"SELECT {KEY_COLUMNS} FROM keyguard_keys WHERE id = {p(key_id)}"
        if account is not None:
            sql += f" AND account = {p(account)}"
        async with self._reader() as runner:
            rows = await runner.fetch(sql, *p.args)
        return self.key_from_row(rows[0]) if rows else None

    async def list_keys(self, query: KeyQuery, now: datetime) -> Page[KeyRecord]:
        p = _Params()
        where = self._key_filters(query, now, p)
        sort_sql = _SORT_EXPRESSIONS[query.sort.field]
        if "{never}" in sort_sql:
            sort_sql = sort_sql.format(never=p(self.encode_time(_NEVER_USED)))
        if query.cursor is not None:
            value, last_id = decode_cursor(query.cursor, query.sort.value)
            v = p(self._cursor_value(query.sort, value))
            op = "<" if query.sort.descending else ">"
            where.append(f"({sort_sql} {op} {v} OR ({sort_sql} = {v} AND id {op} {p(last_id)}))")
        direction = "DESC" if query.sort.descending else "ASC"
        sql = (
            f"SELECT {KEY_COLUMNS} FROM keyguard_keys WHERE {' AND '.join(where) or 'TRUE'}"
            f" ORDER BY {sort_sql} {direction}, id {direction} LIMIT {p(query.limit + 1)}"
        )
        async with self._reader() as runner:
            rows = await runner.fetch(sql, *p.args)
        items = [self.key_from_row(r) for r in rows[: query.limit]]
        more = len(rows) > query.limit
        return Page(items, _key_cursor(query.sort, items[-1]) if more else None)

    def _key_filters(self, query: KeyQuery, now: datetime, p: _Params) -> list[str]:
        where = [
            f"{column} = {p(value)}"
            for column, value in (
                ("account", query.account),
                ("owner", query.owner),
                ("environment", query.environment),
                ("access", query.access.value if query.access else None),
            )
            if value is not None
        ]
        if query.status is KeyStatus.ACTIVE:
            now_sql = p(self.encode_time(now))
            where.append(f"revoked_at IS NULL AND (expires_at IS NULL OR expires_at > {now_sql})")
        elif query.status is KeyStatus.REVOKED:
            where.append("revoked_at IS NOT NULL")
        elif query.status is KeyStatus.EXPIRED:
            where.append(f"revoked_at IS NULL AND expires_at <= {p(self.encode_time(now))}")
        if query.search:
            where.append(f"lower(name) LIKE {p(_like_pattern(query.search))} ESCAPE '\\'")
        return where

    def _cursor_value(self, sort: KeySort, value: Any) -> Any:
        if sort.field == "name":
            if not isinstance(value, str):
                raise ValidationError.single("cursor", "is not a cursor this list gave out")
            return value
        try:
            return self.encode_time(datetime.fromisoformat(value) if value else _NEVER_USED)
        except (TypeError, ValueError):
            raise ValidationError.single("cursor", "is not a cursor this list gave out") from None

    async def list_audit(self, query: AuditQuery) -> Page[AuditEvent]:
        p = _Params()
        where = [
            f"{column} = {p(value)}"
            for column, value in (
                ("account", query.account),
                ("event", query.event.value if query.event else None),
                ("key_id", query.key_id),
            )
            if value is not None
        ]
        if query.since is not None:
            where.append(f"occurred_at >= {p(self.encode_time(query.since))}")
        if query.cursor is not None:
            _, last_id = decode_cursor(query.cursor, "audit")
            where.append(f"id < {p(last_id)}")
        sql = (
            f"SELECT {AUDIT_COLUMNS} FROM keyguard_audit_log WHERE {' AND '.join(where) or 'TRUE'}"
            f" ORDER BY id DESC LIMIT {p(query.limit + 1)}"
        )
        async with self._reader() as runner:
            rows = await runner.fetch(sql, *p.args)
        items = [self._audit_from_row(r) for r in rows[: query.limit]]
        more = len(rows) > query.limit
        return Page(items, encode_cursor("audit", None, items[-1].id) if more else None)

    def _audit_from_row(self, row: Row) -> AuditEvent:
        return AuditEvent(
            id=row["id"],
            account=row["account"],
            event=AuditEventType(row["event"]),
            key_id=row["key_id"],
            actor=row["actor"],
            request_id=row["request_id"],
            occurred_at=self._time(row["occurred_at"]),
            data=freeze_mapping(json.loads(row["data"])),
        )


def _key_cursor(sort: KeySort, last: KeyRecord) -> str:
    if sort.field == "name":
        value: str | None = last.name
    else:
        at = last.created_at if sort.field == "createdAt" else last.last_used_at
        value = at.isoformat() if at else None
    return encode_cursor(sort.value, value, last.id)


class _SqlTransaction:
    """`KeyTransaction` over one open SQL transaction, confined to one account."""

    def __init__(self, store: SqlKeyStore, runner: Runner, account: str) -> None:
        self._store = store
        self._run = runner
        self._account = account

    async def get_key(self, key_id: str) -> StoredKey | None:
        rows = await self._run.fetch(
            f"SELECT {KEY_COLUMNS}, digest FROM keyguard_keys WHERE id = $1 AND account = $2",
            key_id,
            self._account,
        )
        if not rows:
            return None
        return StoredKey(self._store.key_from_row(rows[0]), bytes(rows[0]["digest"]))

    async def count_active_secret_keys(self, owner: str | None, now: datetime) -> int:
        owner_sql = "owner IS NULL" if owner is None else "owner = $4"
        rows = await self._run.fetch(
            "SELECT count(*) AS n FROM keyguard_keys WHERE account = $1 AND access = $2"
            f" AND revoked_at IS NULL AND (expires_at IS NULL OR expires_at > $3) AND {owner_sql}",
            *(self._account, Access.SECRET.value, self._store.encode_time(now)),
            *(() if owner is None else (owner,)),
        )
        return int(rows[0]["n"])

    async def account_settings(self) -> AccountSettings:
        rows = await self._run.fetch(
            "SELECT one_secret_key_per_owner FROM keyguard_accounts WHERE account = $1",
            self._account,
        )
        return AccountSettings(self._account, bool(rows and rows[0]["one_secret_key_per_owner"]))

    async def put_account_settings(self, settings: AccountSettings) -> None:
        await self._run.execute(
            "INSERT INTO keyguard_accounts (account, one_secret_key_per_owner) VALUES ($1, $2)"
            " ON CONFLICT (account) DO UPDATE"
            " SET one_secret_key_per_owner = excluded.one_secret_key_per_owner",
            self._account,
            settings.one_secret_key_per_owner,
        )

    async def insert_key(self, record: KeyRecord, digest: bytes, hash_version: str) -> None:
        t = self._store.encode_time
        await self._run.execute(
            f"INSERT INTO keyguard_keys ({KEY_COLUMNS}, digest, hash_version)"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $10, $11, $12, $13, $14, $15, $16)",
            *(record.id, self._account, record.owner, record.name, record.environment),
            *(record.access.value, record.prefix, record.last4, json.dumps(dict(record.metadata))),
            *(t(record.created_at), t(record.last_used_at), t(record.revoked_at)),
            *(t(record.expires_at), record.replaced_by, digest, hash_version),
        )

    async def update_key(self, record: KeyRecord) -> None:
        t = self._store.encode_time
        await self._run.execute(
            "UPDATE keyguard_keys SET name = $1, revoked_at = $2, expires_at = $3, replaced_by = $4"
            " WHERE id = $5 AND account = $6",
            *(record.name, t(record.revoked_at), t(record.expires_at), record.replaced_by),
            *(record.id, self._account),
        )

    async def delete_key(self, key_id: str) -> None:
        await self._run.execute(
            "DELETE FROM keyguard_keys WHERE id = $1 AND account = $2", key_id, self._account
        )

    async def insert_audit(self, event: AuditEvent) -> None:
        await self._run.execute(
            f"INSERT INTO keyguard_audit_log ({AUDIT_COLUMNS})"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8)",
            *(event.id, self._account, event.event.value, event.key_id, event.actor),
            *(event.request_id, self._store.encode_time(event.occurred_at)),
            json.dumps(dict(event.data)),
        )


def dedupe_latest(batch: Sequence[tuple[str, datetime]]) -> dict[str, datetime]:
    """The latest time per key id, so one statement never updates a row twice."""
    latest: dict[str, datetime] = {}
    for key_id, at in batch:
        if key_id not in latest or at > latest[key_id]:
            latest[key_id] = at
    return latest
