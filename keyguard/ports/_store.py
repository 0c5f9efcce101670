"""The `KeyStore` port: the source of truth for keys, the audit log and last-used times.

Reads are single calls. Lifecycle changes go through `transaction(account)`, which serializes
changes within one account (so rules such as one active secret key per owner hold under
concurrency) and commits the change and its audit row together or not at all.
"""

from __future__ import annotations

from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import NamedTuple, Protocol

from keyguard.core import (
    AccountSettings,
    AuditEvent,
    AuditQuery,
    KeyQuery,
    KeyRecord,
    Page,
)

__all__ = ["KeyStore", "KeyTransaction", "StoredKey"]


class StoredKey(NamedTuple):
    """A record with the digest it is stored under (the digest never leaves the services layer)."""

    record: KeyRecord
    digest: bytes


class KeyTransaction(Protocol):
    """Changes within one account, committed together when the `transaction()` block exits."""

    async def get_key(self, key_id: str) -> StoredKey | None: ...

    async def count_active_secret_keys(self, owner: str | None, now: datetime) -> int: ...

    async def account_settings(self) -> AccountSettings: ...

    async def put_account_settings(self, settings: AccountSettings) -> None: ...

    async def insert_key(self, record: KeyRecord, digest: bytes, hash_version: str) -> None: ...

    async def update_key(self, record: KeyRecord) -> None:
        """Write the mutable fields: name, revoked_at, expires_at, replaced_by."""

    async def delete_key(self, key_id: str) -> None: ...

    async def insert_audit(self, event: AuditEvent) -> None: ...


class KeyStore(Protocol):
    async def open(self) -> None:
        """Connect, and check (SQLite: create) the schema. Raises SchemaNotMigratedError."""

    async def close(self) -> None: ...

    def transaction(self, account: str) -> AbstractAsyncContextManager[KeyTransaction]: ...

    async def find_by_digest(self, digest: bytes) -> KeyRecord | None:
        """The hot path's one round trip: the record stored under `digest`, in any state."""

    async def get_key(self, key_id: str, account: str | None = None) -> KeyRecord | None: ...

    async def list_keys(self, query: KeyQuery, now: datetime) -> Page[KeyRecord]: ...

    async def list_audit(self, query: AuditQuery) -> Page[AuditEvent]: ...

    async def rehash(
        self, key_id: str, old_digest: bytes, new_digest: bytes, hash_version: str
    ) -> bool:
        """Store a key under a new digest (a new pepper), if it is still under `old_digest`."""

    async def record_last_used(self, batch: Sequence[tuple[str, datetime]]) -> None:
        """Apply (key id, time) pairs in one statement; a time never moves backwards."""
