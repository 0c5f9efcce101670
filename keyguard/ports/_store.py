"""The `KeyStore` port: the source of truth for keys, the audit log, last-used times, and the
change log every process learns of changes from.

Reads are single calls. Lifecycle changes go through `transaction(account)`, which serializes
changes within one account (so rules such as one active secret key per owner hold under
concurrency) and commits the change, its audit row and its change-log row together or not at all.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
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
    Quota,
)

__all__ = ["REHASHED", "KeyStore", "KeyTransaction", "StoreChange", "StoredKey"]

REHASHED = "api_key.rehashed"  # the change-log event of a key moved to the current pepper


class StoredKey(NamedTuple):
    """A record with the digest it is stored under (the digest never leaves the services layer)."""

    record: KeyRecord
    digest: bytes


class StoreChange(NamedTuple):
    """One row of the change log: key `key_id`, stored under `digest` once the change committed,
    changed at sequence number `seq` (which became the key's `version`), at `at` (Unix
    seconds, the writer's clock, moments before the commit; None where not carried)."""

    seq: int
    key_id: str
    digest: bytes
    event: str
    at: float | None = None


class KeyTransaction(Protocol):
    """Changes within one account, committed together when the `transaction()` block exits."""

    async def get_key(self, key_id: str) -> StoredKey | None:
        """The key, locked against other writers until the transaction ends."""

    async def count_active_secret_keys(self, owner: str | None, now: datetime) -> int: ...

    async def account_settings(self) -> AccountSettings: ...

    async def put_account_settings(self, settings: AccountSettings) -> None: ...

    async def insert_key(self, record: KeyRecord, digest: bytes, hash_version: str) -> None: ...

    async def update_key(self, record: KeyRecord) -> None:
        """Write the mutable fields: name, revoked_at, expires_at, replaced_by, and the
        restrictions (permissions, allowed_origins, allowed_networks)."""

    async def audited_since(self, key_id: str, event: str, since: datetime) -> bool:
        """Whether the audit log holds `event` for the key later than `since`."""

    async def delete_key(self, key_id: str) -> None: ...

    async def insert_audit(self, event: AuditEvent) -> None: ...

    async def record_change(self, key_id: str, digest: bytes, event: str) -> int:
        """Append to the change log (timed by the store's clock) and make its `seq` the key's
        version; return the `seq`. The last statement of a transaction: it holds the log's lock
        until the commit."""


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

    async def active_keys_by_hash_version(self, now: datetime) -> dict[str, int]:
        """How many valid keys are stored under each hashing scheme (`KeyHasher.version`):
        what start-up and `keyguard doctor` check the pepper against."""

    async def rehash(
        self, key_id: str, old_digest: bytes, new_digest: bytes, hash_version: str
    ) -> KeyRecord | None:
        """Store a key under a new digest (a new pepper) if it is still under `old_digest`,
        logging the change; the record as it is once moved, or None if it was not there."""

    async def record_last_used(self, batch: Sequence[tuple[str, datetime]]) -> None:
        """Apply (key id, time) pairs in one statement; a time never moves backwards."""

    async def record_quota_usage(self, batch: Sequence[tuple[str, Quota]]) -> None:
        """Write back what the counters saw of (key id, quota) pairs: only while the key holds
        the same setting (`set_at_ms`), and only forward (a later refill, or less left)."""

    async def read_changes(
        self, after: int, *, within: float | None = None, limit: int = 1000
    ) -> Sequence[StoreChange]:
        """Changes with `seq > after` (and, given `within`, made no more than that many
        seconds ago by the store's clock, not the caller's), by `seq`."""

    async def last_change(self) -> int:
        """The highest `seq` in the change log (0 when it is empty)."""

    async def prune_changes(self, older_than: float) -> int:
        """Delete changes made over `older_than` seconds ago (by the store's clock), in
        batches; how many went."""

    async def watch_changes(self, wake: Callable[[], None]) -> None:
        """Call `wake` whenever a change may have committed, until cancelled, reconnecting by
        itself. Returns at once where the store cannot notify: readers then poll alone."""
