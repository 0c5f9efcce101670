"""The key lifecycle: mint, read, list, rename, revoke, delete, roll, and the audit log.

Every change, its audit row and its change-log row commit in one store transaction; every
process learns of the change from the change log, and listeners (this process's caches, and
through them every process at once) hear of it after it committed. The value of a new key exists
only in the returned `CreatedKey`: the store keeps its digest.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import AsyncIterator, Callable, Iterable, Mapping
from contextlib import asynccontextmanager
from datetime import datetime, timedelta
from typing import Any

from keyguard.core import (
    Access,
    AccountSettings,
    AuditEvent,
    AuditEventType,
    AuditQuery,
    ConflictError,
    CreatedKey,
    KeyFormat,
    KeyHasher,
    KeyQuery,
    KeyRecord,
    NotFoundError,
    Page,
    ValidationError,
    format_time,
    freeze_mapping,
    new_id,
    parse_access,
    utcnow,
    validate_environment,
    validate_metadata,
    validate_name,
)
from keyguard.ports import KeyStore, KeyTransaction, StoredKey

from ._key_changes import (
    MAX_PAGE,
    Act,
    KeyChange,
    Listener,
    audit_event,
    check_limit,
    check_one_secret_rule,
    checked_expiry,
    log_change,
    notify,
)

__all__ = ["DEFAULT_GRACE", "MAX_GRACE", "MAX_PAGE", "KeyChange", "KeyManager"]

logger = logging.getLogger(__name__)
DEFAULT_GRACE = timedelta(hours=24)
MAX_GRACE = timedelta(days=30)


class KeyManager:
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

    async def create(
        self,
        *,
        account: str,
        name: str,
        environment: str,
        access: Access | str,
        owner: str | None = None,
        expires_at: datetime | None = None,
        metadata: Mapping[str, Any] | None = None,
        actor: str = "system",
        request_id: str | None = None,
    ) -> CreatedKey:
        now = self._clock()
        record = KeyRecord(
            id=new_id("key_"),
            name=validate_name(name),
            account=validate_name(account, "account"),
            owner=None if owner is None else validate_name(owner, "owner"),
            environment=validate_environment(environment, self.key_format.environments),
            access=parse_access(access),
            prefix="",
            last4="",
            created_at=now,
            expires_at=checked_expiry(expires_at, now),
            metadata=freeze_mapping(validate_metadata(metadata)),
        )
        async with self.store.transaction(record.account) as tx:
            await check_one_secret_rule(tx, record, now)
            return await self._insert(tx, record, now, actor, request_id, {})

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

    async def list(self, query: KeyQuery) -> Page[KeyRecord]:
        check_limit(query.limit)
        return await self.store.list_keys(query, self._clock())

    async def audit(self, query: AuditQuery) -> Page[AuditEvent]:
        check_limit(query.limit)
        return await self.store.list_audit(query)

    async def rename(
        self,
        key_id: str,
        name: str,
        *,
        account: str | None = None,
        actor: str = "system",
        request_id: str | None = None,
    ) -> KeyRecord:
        new_name = validate_name(name)

        def apply(old: KeyRecord, now: datetime) -> tuple[KeyRecord, dict[str, Any]] | None:
            if old.name == new_name:
                return None
            return dataclasses.replace(old, name=new_name), {"from": old.name, "to": new_name}

        return await self._update(key_id, account, AuditEventType.RENAMED, apply, actor, request_id)

    async def revoke(
        self,
        key_id: str,
        *,
        account: str | None = None,
        actor: str = "system",
        request_id: str | None = None,
    ) -> KeyRecord:
        """Revoke now, irreversibly. Revoking a revoked key changes nothing and logs nothing."""

        def apply(old: KeyRecord, now: datetime) -> tuple[KeyRecord, dict[str, Any]] | None:
            if old.revoked_at is not None:
                return None
            return dataclasses.replace(old, revoked_at=now), {}

        return await self._update(key_id, account, AuditEventType.REVOKED, apply, actor, request_id)

    async def _update(
        self,
        key_id: str,
        account: str | None,
        event: AuditEventType,
        apply: Callable[[KeyRecord, datetime], tuple[KeyRecord, dict[str, Any]] | None],
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

    async def delete(
        self,
        key_id: str,
        *,
        account: str | None = None,
        actor: str = "system",
        request_id: str | None = None,
    ) -> KeyRecord:
        """Delete a revoked key for good; an active key is a `ConflictError`."""
        now = self._clock()
        async with self._locked(key_id, account) as (tx, stored):
            if stored.record.revoked_at is None:
                raise ConflictError("only a revoked key can be deleted: revoke it first")
            await tx.delete_key(key_id)
            act = Act(actor, request_id, now)
            data = {"name": stored.record.name}
            event = AuditEventType.DELETED
            logged = await log_change(tx, event, stored.record, stored.digest, act, data)
        await notify(self._listeners, logged)
        return stored.record

    async def roll(
        self,
        key_id: str,
        *,
        grace: timedelta = DEFAULT_GRACE,
        account: str | None = None,
        actor: str = "system",
        request_id: str | None = None,
    ) -> CreatedKey:
        """Mint a successor with the same name, owner, environment and access; the old key
        keeps working until the grace period ends, then expires."""
        if not timedelta(0) <= grace <= MAX_GRACE:
            raise ValidationError.single("grace", f"must be between 0 and {MAX_GRACE.days} days")
        now = self._clock()
        async with self._locked(key_id, account) as (tx, stored):
            old = stored.record
            if not old.is_valid(now) or old.replaced_by is not None:
                raise ConflictError("only an active key that was not rolled already can be rolled")
            template = dataclasses.replace(
                old,
                id=new_id("key_"),
                created_at=now,
                last_used_at=None,
                expires_at=None,
                version=0,
            )
            created = await self._insert(
                tx, template, now, actor, request_id, {"rolledFrom": old.id}
            )
            ends = now + grace if old.expires_at is None else min(old.expires_at, now + grace)
            rolled = dataclasses.replace(old, expires_at=ends, replaced_by=created.record.id)
            await tx.update_key(rolled)
            data = {"replacedBy": created.record.id, "graceEndsAt": format_time(ends)}
            act = Act(actor, request_id, now)
            logged = await log_change(tx, AuditEventType.ROLLED, rolled, stored.digest, act, data)
        await notify(self._listeners, logged)
        return created

    async def set_account_settings(self, settings: AccountSettings) -> AccountSettings:
        settings = dataclasses.replace(settings, account=validate_name(settings.account, "account"))
        async with self.store.transaction(settings.account) as tx:
            await tx.put_account_settings(settings)
        return settings

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
