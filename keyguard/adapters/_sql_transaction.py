"""One SQL transaction as a `KeyTransaction`, confined to one account: the writes of the
lifecycle, each with its audit row and its change-log row in the same transaction."""

from __future__ import annotations

import json
from datetime import datetime
from typing import TYPE_CHECKING

from keyguard.core import (
    Access,
    AccountSettings,
    AuditEvent,
    KeyRecord,
    rate_limits_json,
    stored_quota,
)
from keyguard.ports import StoredKey

from ._sql_shapes import AUDIT_COLUMNS, KEY_COLUMNS, Runner

if TYPE_CHECKING:
    from ._sql_store import SqlKeyStore

__all__ = ["SqlTransaction", "limit_columns"]


def limit_columns(record: KeyRecord) -> tuple[str | None, ...]:
    """The restrictions as stored: JSON arrays (permissions sorted), NULL when not restricted;
    then the usage limits as JSON, NULL for the default rate limits and for no quota."""
    return (
        None if record.permissions is None else json.dumps(sorted(record.permissions)),
        None if record.allowed_origins is None else json.dumps(list(record.allowed_origins)),
        None if record.allowed_networks is None else json.dumps(list(record.allowed_networks)),
        _json(rate_limits_json(record.rate_limits)),
        _json(stored_quota(record.quota)),
    )


def _json(value: object) -> str | None:
    return None if value is None else json.dumps(value)


class SqlTransaction:
    """`KeyTransaction` over one open SQL transaction, confined to one account."""

    def __init__(self, store: SqlKeyStore, runner: Runner, account: str) -> None:
        self._store = store
        self._run = runner
        self._account = account

    async def get_key(self, key_id: str) -> StoredKey | None:
        rows = await self._run.fetch(
            f"SELECT {KEY_COLUMNS}, digest FROM keyguard_keys WHERE id = $1 AND account = $2"
            + self._store.row_lock,
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
            f"INSERT INTO keyguard_keys ({KEY_COLUMNS}, digest, hash_version) VALUES"
            f" ({', '.join(f'${n}' for n in range(1, 24))})",
            *(record.id, self._account, record.owner, record.name, record.environment),
            *(record.access.value, record.prefix, record.last4, json.dumps(dict(record.metadata))),
            *(t(record.created_at), t(record.last_used_at), t(record.revoked_at)),
            *(t(record.expires_at), record.replaced_by, record.version),
            *limit_columns(record),
            *(record.counted_as, digest, hash_version),
        )

    async def update_key(self, record: KeyRecord) -> None:
        t = self._store.encode_time
        await self._run.execute(
            "UPDATE keyguard_keys SET name = $1, revoked_at = $2, expires_at = $3,"
            " replaced_by = $4, permissions = $5, allowed_origins = $6, allowed_networks = $7,"
            " rate_limits = $8, quota = $9 WHERE id = $10 AND account = $11",
            *(record.name, t(record.revoked_at), t(record.expires_at), record.replaced_by),
            *limit_columns(record),
            *(record.id, self._account),
        )

    async def audited_since(self, key_id: str, event: str, since: datetime) -> bool:
        rows = await self._run.fetch(
            "SELECT 1 AS found FROM keyguard_audit_log WHERE key_id = $1 AND event = $2"
            " AND occurred_at > $3 LIMIT 1",
            *(key_id, event, self._store.encode_time(since)),
        )
        return bool(rows)

    async def delete_key(self, key_id: str) -> None:
        await self._run.execute(
            "DELETE FROM keyguard_keys WHERE id = $1 AND account = $2", key_id, self._account
        )

    async def insert_audit(self, event: AuditEvent) -> None:
        await self._run.execute(
            f"INSERT INTO keyguard_audit_log ({AUDIT_COLUMNS})"
            " VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9)",
            *(event.id, self._account, event.event.value, event.key_id, event.actor),
            *(event.request_id, self._store.encode_time(event.occurred_at)),
            json.dumps(dict(event.data)),
            event.environment,
        )

    async def record_change(self, key_id: str, digest: bytes, event: str) -> int:
        return await self._store.append_change(self._run, key_id, digest, event)
