"""The pieces of a lifecycle change: who makes it (`Act`), its audit row, what listeners hear
(`KeyChange`), and the checks of what a change may ask for."""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Iterable
from datetime import datetime
from typing import Any, NamedTuple

from keyguard.core import (
    Access,
    AuditEvent,
    AuditEventType,
    ConflictError,
    KeyRecord,
    ValidationError,
    freeze_mapping,
    new_id,
)
from keyguard.ports import KeyTransaction

__all__ = [
    "MAX_PAGE",
    "Act",
    "KeyChange",
    "Listener",
    "audit_event",
    "check_limit",
    "check_one_secret_rule",
    "checked_expiry",
    "log_change",
    "notify",
]

logger = logging.getLogger(__name__)
MAX_PAGE = 100


class KeyChange(NamedTuple):
    """A committed change that makes cached copies of a key stale."""

    account: str
    key_id: str
    digest: bytes
    event: AuditEventType
    version: int  # the change log's `seq` for it, now the key's version


Listener = Callable[[KeyChange], Awaitable[None]]


class Act(NamedTuple):
    """Who makes a change, under which request, and when: what its audit row records."""

    actor: str
    request_id: str | None
    now: datetime


def audit_event(
    event: AuditEventType, record: KeyRecord, act: Act, data: dict[str, Any]
) -> AuditEvent:
    return AuditEvent(
        id=new_id("evt_"),
        event=event,
        account=record.account,
        key_id=record.id,
        actor=act.actor,
        request_id=act.request_id,
        occurred_at=act.now,
        data=freeze_mapping(data),
        environment=record.environment,
    )


def checked_expiry(expires_at: datetime | None, now: datetime) -> datetime | None:
    """A key's end. One already past is allowed, as the API's schema says (no schema can say
    "after now"): the key expires as it is created, its end its creation time, so no year a
    client made up (0001, 0999) reaches a store."""
    if expires_at is None:
        return None
    if expires_at.tzinfo is None:
        raise ValidationError.single("expiresAt", "must include a time zone")
    return max(expires_at, now)


def check_limit(limit: int) -> None:
    if not 1 <= limit <= MAX_PAGE:
        raise ValidationError.single("limit", f"must be between 1 and {MAX_PAGE}")


async def check_one_secret_rule(tx: KeyTransaction, record: KeyRecord, now: datetime) -> None:
    if record.access is not Access.SECRET:
        return
    if not (await tx.account_settings()).one_secret_key_per_owner:
        return
    if await tx.count_active_secret_keys(record.owner, now):
        raise ConflictError(
            "this account allows one active secret key per owner: revoke the current one first"
        )


async def notify(listeners: Iterable[Listener], change: KeyChange) -> None:
    # The change is committed: a listener that fails is reported, not raised, since the
    # caller's change did happen and retrying it would be wrong.
    for listener in listeners:
        try:
            await listener(change)
        except Exception as exc:
            logger.warning(
                "%s of %s committed, but the shared cache could not be told (%s): other"
                " processes learn of it from the store's change log instead",
                change.event.value,
                change.key_id,
                type(exc).__name__,
            )


async def log_change(
    tx: KeyTransaction,
    event: AuditEventType,
    record: KeyRecord,
    digest: bytes,
    act: Act,
    data: dict[str, Any],
) -> KeyChange:
    """The change's audit row and its change-log row, in the change's transaction."""
    await tx.insert_audit(audit_event(event, record, act, data))
    version = await tx.record_change(record.id, digest, event.value)
    return KeyChange(record.account, record.id, digest, event, version)
