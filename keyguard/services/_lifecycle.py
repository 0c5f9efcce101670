"""The key lifecycle: mint, read, list, rename, revoke, delete, roll, and the audit log.

Every change, its audit row and its change-log row commit in one store transaction; every
process learns of the change from the change log, and listeners (this process's caches, and
through them every process at once) hear of it after it committed. The value of a new key exists
only in the returned `CreatedKey`: the store keeps its digest.
"""

from __future__ import annotations

import dataclasses
import logging
from collections.abc import Iterable, Mapping
from datetime import datetime, timedelta
from typing import Any

from keyguard.core import (
    UNCHANGED,
    Access,
    AccountSettings,
    AuditEvent,
    AuditEventType,
    AuditQuery,
    ConflictError,
    CreatedKey,
    KeyQuery,
    KeyRecord,
    Page,
    Restrictions,
    Unchanged,
    UsageLimits,
    ValidationError,
    format_time,
    freeze_mapping,
    new_id,
    parse_access,
    restriction_changes,
    validate_environment,
    validate_metadata,
    validate_name,
)

from ._key_changes import (
    MAX_PAGE,
    Act,
    KeyChange,
    check_limit,
    check_one_secret_rule,
    checked_expiry,
    log_change,
    notify,
)
from ._key_writer import KeyWriter
from ._usage_changes import QuotaInput, RateLimitsInput, limits_change, new_key_limits

__all__ = ["DEFAULT_GRACE", "MAX_GRACE", "MAX_PAGE", "KeyChange", "KeyManager"]

logger = logging.getLogger(__name__)
DEFAULT_GRACE = timedelta(hours=24)
MAX_GRACE = timedelta(days=30)


class KeyManager(KeyWriter):
    """The key lifecycle, as applications and the management edges call it."""

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
        permissions: Iterable[str] | None = None,
        allowed_origins: Iterable[str] | None = None,
        allowed_networks: Iterable[str] | None = None,
        rate_limits: RateLimitsInput = None,
        quota: QuotaInput = None,
        actor: str = "system",
        request_id: str | None = None,
    ) -> CreatedKey:
        """Mint a key; `permissions`, `allowed_origins` (publishable keys), `allowed_networks`
        (secret keys) restrict it (None: none); `rate_limits` (None: the default), `quota`."""
        now = self._clock()
        record = KeyRecord(
            id=new_id("key_"),
            name=validate_name(name),
            account=validate_name(account, "account"),
            owner=None if owner is None else validate_name(owner, "owner"),
            environment=validate_environment(environment, self.key_format.environments),
            access=parse_access(access),
            **_unminted(now, checked_expiry(expires_at, now), validate_metadata(metadata)),
        )
        limits = Restrictions.validated(
            record.access,
            permissions=permissions,
            allowed_origins=allowed_origins,
            allowed_networks=allowed_networks,
        )
        record, shown = _bounded(record, limits, new_key_limits(rate_limits, quota, now))
        async with self.store.transaction(record.account) as tx:
            await check_one_secret_rule(tx, record, now)
            return await self._insert(tx, record, now, actor, request_id, shown)

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

    async def restrict(
        self,
        key_id: str,
        *,
        permissions: Iterable[str] | Unchanged | None = UNCHANGED,
        allowed_origins: Iterable[str] | Unchanged | None = UNCHANGED,
        allowed_networks: Iterable[str] | Unchanged | None = UNCHANGED,
        account: str | None = None,
        actor: str = "system",
        request_id: str | None = None,
    ) -> KeyRecord:
        """Change what a key may do or where from (None lifts a restriction), audited as
        `api_key.permissions_changed` and invalidated everywhere as a revoke is."""

        def apply(old: KeyRecord, now: datetime) -> tuple[KeyRecord, dict[str, Any]] | None:
            if old.revoked_at is not None:
                raise ConflictError("a revoked key's permissions cannot change")
            new = restriction_changes(
                old,
                permissions=permissions,
                allowed_origins=allowed_origins,
                allowed_networks=allowed_networks,
            )
            before, after = Restrictions.of(old).as_json(), new.as_json()
            changed = [field for field in after if after[field] != before[field]]
            if not changed:
                return None
            data = {"from": {f: before[f] for f in changed}, "to": {f: after[f] for f in changed}}
            return dataclasses.replace(old, **new.as_fields()), data

        event = AuditEventType.PERMISSIONS_CHANGED
        return await self._update(key_id, account, event, apply, actor, request_id)

    async def limit(
        self,
        key_id: str,
        *,
        rate_limits: RateLimitsInput | Unchanged = UNCHANGED,
        quota: QuotaInput | Unchanged = UNCHANGED,
        account: str | None = None,
        actor: str = "system",
        request_id: str | None = None,
    ) -> KeyRecord:
        """Change how much a key may be used: `rate_limits` ([] none, None the settings'
        default), `quota` (None lifts it; a quota given is set anew, which is how one is
        reset). Audited as `api_key.limits_changed`, invalidated everywhere as a revoke is."""
        change = limits_change(rate_limits, quota)
        event = AuditEventType.LIMITS_CHANGED
        return await self._update(key_id, account, event, change, actor, request_id)

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
                counted_as=old.counted_as or old.id,  # one count for the whole roll chain
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


def _bounded(
    record: KeyRecord, limits: Restrictions, usage: UsageLimits
) -> tuple[KeyRecord, dict[str, Any]]:
    """The record with its restrictions and usage limits, and what its audit row shows."""
    shown = {**limits.as_json(), **usage.as_json()}.items()
    bounded = dataclasses.replace(record, **limits.as_fields(), **usage.as_fields())
    return bounded, {name: value for name, value in shown if value is not None}


def _unminted(now: datetime, expires_at: datetime | None, metadata: Any) -> dict[str, Any]:
    """A new record's remaining fields: no prefix or last four until its value is minted."""
    return {
        "prefix": "",
        "last4": "",
        "created_at": now,
        "expires_at": expires_at,
        "metadata": freeze_mapping(metadata),
    }
