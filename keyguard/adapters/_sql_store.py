"""What the SQLite and Postgres stores share: the queries, written once with `$n` placeholders,
and the mapping between rows and records. Each adapter supplies connections, time encoding and
its way of appending to the change log."""

from __future__ import annotations

import abc
import dataclasses
import json
from collections.abc import AsyncIterator, Sequence
from contextlib import AbstractAsyncContextManager, asynccontextmanager
from datetime import datetime
from typing import Any

from keyguard.core import (
    Access,
    AuditEvent,
    AuditEventType,
    AuditQuery,
    KeyQuery,
    KeyRecord,
    Page,
    Quota,
    Restrictions,
    StoreUnavailableError,
    audit_cursor,
    decoded_restrictions,
    decoded_usage,
    freeze_mapping,
    key_cursor,
    stored_quota,
)
from keyguard.ports import REHASHED, KeyTransaction

from ._sql_change_log import SqlChangeLog
from ._sql_lists import audit_list_sql, key_list_sql
from ._sql_shapes import KEY_COLUMNS, Row, Runner
from ._sql_transaction import SqlTransaction

__all__ = ["SqlKeyStore", "dedupe_latest"]

_FORWARD_FIELDS = ("refilledAtMs", "remaining", "setAtMs")


class SqlKeyStore(SqlChangeLog):
    """A `KeyStore` over SQL; subclasses provide connections, time encoding and batch updates."""

    row_lock = ""  # what a transaction's read of a key adds to lock its row until the end
    quota_field = ""  # SQL for one integer field of the quota column, as a format with {0}

    @abc.abstractmethod
    def _writer(self, account: str | None) -> AbstractAsyncContextManager[Runner]:
        """A transaction holding a lock on `account` (None: no account lock) until it ends."""

    @abc.abstractmethod
    def encode_time(self, at: datetime | None) -> Any: ...

    @abc.abstractmethod
    def decode_time(self, value: Any) -> datetime | None: ...

    def key_from_row(self, row: Row) -> KeyRecord:
        access = Access(row["access"])
        return KeyRecord(
            id=row["id"],
            account=row["account"],
            owner=row["owner"],
            name=row["name"],
            environment=row["environment"],
            access=access,
            prefix=row["prefix"],
            last4=row["last4"],
            metadata=freeze_mapping(json.loads(row["metadata"])),
            created_at=self._time(row["created_at"]),
            last_used_at=self.decode_time(row["last_used_at"]),
            revoked_at=self.decode_time(row["revoked_at"]),
            expires_at=self.decode_time(row["expires_at"]),
            replaced_by=row["replaced_by"],
            version=int(row["version"]),
            **_restrictions(access, row).as_fields(),
            **_usage(row),
            counted_as=row["counted_as"],
        )

    def _time(self, value: Any) -> datetime:
        at = self.decode_time(value)
        assert at is not None  # NOT NULL column
        return at

    @asynccontextmanager
    async def transaction(self, account: str) -> AsyncIterator[KeyTransaction]:
        async with self._writer(account) as runner:
            yield SqlTransaction(self, runner, account)

    async def find_by_digest(self, digest: bytes) -> KeyRecord | None:
        sql = f"SELECT {KEY_COLUMNS} FROM keyguard_keys WHERE digest = $1"
        async with self._session() as runner:
            rows = await runner.fetch(sql, digest)
        return self.key_from_row(rows[0]) if rows else None

    async def rehash(
        self, key_id: str, old_digest: bytes, new_digest: bytes, hash_version: str
    ) -> KeyRecord | None:
        # The row as it is after the update: on PostgreSQL an UPDATE that waited for a
        # concurrent revoke's row lock sees (and returns) the revoked row.
        sql = (
            "UPDATE keyguard_keys SET digest = $1, hash_version = $2"
            f" WHERE id = $3 AND digest = $4 RETURNING {KEY_COLUMNS}"
        )
        async with self._writer(None) as runner:
            rows = await runner.fetch(sql, new_digest, hash_version, key_id, old_digest)
            if not rows:
                return None
            record = self.key_from_row(rows[0])
            seq = await self.append_change(runner, key_id, new_digest, REHASHED)
        return dataclasses.replace(record, version=seq)

    async def record_quota_usage(self, batch: Sequence[tuple[str, Quota]]) -> None:
        # Only under the same setting (a reset since wins), and only forward: a later refill,
        # or the same refill with less left. Processes report what they saw in any order.
        at, left, set_at = (self.quota_field.format(f) for f in _FORWARD_FIELDS)
        sql = (
            f"UPDATE keyguard_keys SET quota = $1 WHERE id = $2 AND quota IS NOT NULL"
            f" AND {set_at} = $3 AND ({at} < $4 OR ({at} = $4 AND {left} > $5))"
        )
        async with self._writer(None) as runner:
            for key_id, quota in batch:
                await runner.execute(
                    sql,
                    json.dumps(stored_quota(quota)),
                    key_id,
                    quota.set_at_ms,
                    quota.refilled_at_ms,
                    quota.remaining,
                )

    async def get_key(self, key_id: str, account: str | None = None) -> KeyRecord | None:
        sql = f"SELECT {KEY_COLUMNS} FROM keyguard_keys WHERE id = $1"
        args: tuple[str, ...] = (key_id,)
        if account is not None:
            sql, args = sql + " AND account = $2", (key_id, account)
        async with self._session() as runner:
            rows = await runner.fetch(sql, *args)
        return self.key_from_row(rows[0]) if rows else None

    async def list_keys(self, query: KeyQuery, now: datetime) -> Page[KeyRecord]:
        sql, args = key_list_sql(query, now, self.encode_time)
        async with self._session() as runner:
            rows = await runner.fetch(sql, *args)
        items = [self.key_from_row(r) for r in rows[: query.limit]]
        more = len(rows) > query.limit
        return Page(items, key_cursor(query.sort, items[-1]) if more else None)

    async def active_keys_by_hash_version(self, now: datetime) -> dict[str, int]:
        sql = (
            "SELECT hash_version, count(*) AS n FROM keyguard_keys WHERE revoked_at IS NULL"
            " AND (expires_at IS NULL OR expires_at > $1) GROUP BY hash_version"
        )
        async with self._session() as runner:
            rows = await runner.fetch(sql, self.encode_time(now))
        return {row["hash_version"]: int(row["n"]) for row in rows}

    async def list_audit(self, query: AuditQuery) -> Page[AuditEvent]:
        sql, args = audit_list_sql(query, self.encode_time)
        async with self._session() as runner:
            rows = await runner.fetch(sql, *args)
        items = [self._audit_from_row(r) for r in rows[: query.limit]]
        more = len(rows) > query.limit
        return Page(items, audit_cursor(items[-1].id) if more else None)

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
            environment=row["environment"],
        )


def _restrictions(access: Access, row: Row) -> Restrictions:
    """The row's restrictions, checked as on write: a row that holds anything else is not
    read as a wider key, nor crashes a request; the store cannot vouch for it (503)."""
    try:
        return decoded_restrictions(
            access,
            *(_json(row[c]) for c in ("permissions", "allowed_origins", "allowed_networks")),
        )
    except ValueError:
        raise StoreUnavailableError(
            f"key {row['id']}: its stored restrictions are malformed"
        ) from None


def _usage(row: Row) -> dict[str, Any]:
    """The row's usage limits, checked as on write (a malformed one: 503, as above)."""
    try:
        return decoded_usage(_json(row["rate_limits"]), _json(row["quota"])).as_fields()
    except ValueError:
        raise StoreUnavailableError(
            f"key {row['id']}: its stored usage limits are malformed"
        ) from None


def _json(text: str | None) -> object:
    return None if text is None else json.loads(text)


def dedupe_latest(batch: Sequence[tuple[str, datetime]]) -> dict[str, datetime]:
    """The latest time per key id, so one statement never updates a row twice."""
    latest: dict[str, datetime] = {}
    for key_id, at in batch:
        if key_id not in latest or at > latest[key_id]:
            latest[key_id] = at
    return latest
