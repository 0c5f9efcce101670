"""The mechanics every lifecycle change shares: minting a value into a new row, changing a key
under its row lock, and telling listeners once the change committed. `KeyManager` builds the
public lifecycle on these."""

from __future__ import annotations

import dataclasses
from collections.abc import AsyncIterator, Callable, Iterable
from contextlib import asynccontextmanager
from datetime import datetime
from typing import Any

from keyguard.core import (
    AuditEventType,
    CreatedKey,
    KeyFormat,
    KeyHasher,
    KeyRecord,
    NotFoundError,
    utcnow,
)
from keyguard.ports import KeyStore, KeyTransaction, StoredKey

from ._key_changes import Act, KeyChange, Listener, audit_event, log_change, notify

__all__ = ["Change", "KeyWriter"]

# What a change makes of a key's record: the new record and its audit data, or None (nothing
# to change, nothing logged).
Change = Callable[[KeyRecord, datetime], tuple[KeyRecord, dict[str, Any]] | None]


class KeyWriter:
    def __init__(
        self,
        store: KeyStore,
        *,
        key_format: KeyFormat | None = None,
        hasher: KeyHasher | None = None,
        clock: Callable[[], datetime] = utcnow,
        listeners: Iterable[Listener] = (),
    ) -> None:
        self.store = store
        self.key_format = key_format or KeyFormat()
        self.hasher = hasher or KeyHasher()
        self._clock = clock
        self._listeners = list(listeners)

    def add_listener(self, listener: Listener) -> None:
        self._listeners.append(listener)

    async def announce(self, change: KeyChange) -> None:
        """Tell the listeners of a change committed outside these methods (a leak report's)."""
        await notify(self._listeners, change)

    async def _insert(
        self,
        tx: KeyTransaction,
        template: KeyRecord,
        now: datetime,
        actor: str,
        request_id: str | None,
        data: dict[str, Any],
    ) -> CreatedKey:
        value = self.key_format.generate(template.access, template.environment)
        parsed = self.key_format.parse(value)
        record = dataclasses.replace(template, prefix=parsed.prefix, last4=parsed.last4)
        await tx.insert_key(record, self.hasher.digest(value), self.hasher.version)
        data = {"name": record.name, "environment": record.environment, **data}
        act = Act(actor, request_id, now)
        await tx.insert_audit(audit_event(AuditEventType.CREATED, record, act, data))
        return CreatedKey(record, value)

    async def get(self, key_id: str, *, account: str | None = None) -> KeyRecord:
        record = await self.store.get_key(key_id, account)
        if record is None:
            raise NotFoundError(f"no API key with id {key_id!r}")
        return record

    async def _update(
        self,
        key_id: str,
        account: str | None,
        event: AuditEventType,
        apply: Change,
        actor: str,
        request_id: str | None,
    ) -> KeyRecord:
        now = self._clock()
        async with self._locked(key_id, account) as (tx, stored):
            change = apply(stored.record, now)
            if change is None:
                return stored.record
            record, data = change
            await tx.update_key(record)
            act = Act(actor, request_id, now)
            logged = await log_change(tx, event, record, stored.digest, act, data)
        await notify(self._listeners, logged)
        return dataclasses.replace(record, version=logged.version)

    @asynccontextmanager
    async def _locked(
        self, key_id: str, account: str | None
    ) -> AsyncIterator[tuple[KeyTransaction, StoredKey]]:
        """A transaction on the key's account with the key re-read inside it. Finding the
        account first is what lets an operator act on a key by its id alone."""
        record = await self.get(key_id, account=account)
        async with self.store.transaction(record.account) as tx:
            stored = await tx.get_key(key_id)
            if stored is None:  # deleted since we looked
                raise NotFoundError(f"no API key with id {key_id!r}")
            yield tx, stored
