"""The one public shape of keys and audit events: what the management API answers, and what the
CLI's `--json`, the demo's `/v1/me` and any other edge show.

A list row is metadata only: enough to tell keys apart in a dashboard or a log, nothing more.
The single-key view adds what the caller itself gave or caused (`metadata`, `replacedBy`). No
view ever carries a value except `created_view`, once; none carries the account (the caller's
own, so it tells them nothing) or the owner (another system's user id, not this API's business).
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from ._rate_limit_defaults import RateLimitDefaults
from ._records import AuditEvent, CreatedKey, KeyRecord
from ._times import format_time
from ._usage_view import NO_DEFAULTS, usage_view

__all__ = [
    "SUMMARY_FIELDS",
    "audit_view",
    "created_view",
    "deleted_view",
    "detail_view",
    "summary_view",
]

SUMMARY_FIELDS = (
    "id",
    "name",
    "prefix",
    "last4",
    "environment",
    "access",
    "status",
    "createdAt",
    "lastUsedAt",
    "revokedAt",
    "expiresAt",
    "permissions",
    "allowedOrigins",
    "allowedNetworks",
    "usableFrom",
    "rateLimits",
    "effectiveRateLimits",
    "quota",
)


def summary_view(
    record: KeyRecord, now: datetime, defaults: RateLimitDefaults = NO_DEFAULTS
) -> dict[str, Any]:
    """`defaults`: the settings' default rate limits, which `effectiveRateLimits` shows for a
    key with none of its own (`Settings.rate_limit_defaults()`; none when not given)."""
    return {
        "id": record.id,
        "name": record.name,
        "prefix": record.prefix,
        "last4": record.last4,
        "environment": record.environment,
        "access": record.access.value,
        "status": record.status(now).value,
        "createdAt": format_time(record.created_at),
        "lastUsedAt": _time(record.last_used_at),
        "revokedAt": _time(record.revoked_at),
        "expiresAt": _time(record.expires_at),
        **_restrictions(record),
        **usage_view(record, now, defaults),
    }


def _restrictions(record: KeyRecord) -> dict[str, Any]:
    """What the key may do (null: whatever its access allows) and where from, with
    `usableFrom` saying in words which list governs that: a key with none works from anywhere."""
    if record.allowed_origins is not None:
        usable_from = "allowedOrigins"
    elif record.allowed_networks is not None:
        usable_from = "allowedNetworks"
    else:
        usable_from = "anywhere"
    return {
        "permissions": None if record.permissions is None else sorted(record.permissions),
        "allowedOrigins": _list(record.allowed_origins),
        "allowedNetworks": _list(record.allowed_networks),
        "usableFrom": usable_from,
    }


def _list(items: tuple[str, ...] | None) -> list[str] | None:
    return None if items is None else list(items)


def detail_view(
    record: KeyRecord, now: datetime, defaults: RateLimitDefaults = NO_DEFAULTS
) -> dict[str, Any]:
    return {
        **summary_view(record, now, defaults),
        "replacedBy": record.replaced_by,
        "metadata": dict(record.metadata),
    }


def created_view(
    created: CreatedKey, now: datetime, defaults: RateLimitDefaults = NO_DEFAULTS
) -> dict[str, Any]:
    return {**detail_view(created.record, now, defaults), "value": created.value}


def deleted_view(key_id: str) -> dict[str, Any]:
    """What a permanent delete did: the key is gone, so there is no status left to show."""
    return {"id": key_id, "deleted": True}


def audit_view(event: AuditEvent) -> dict[str, Any]:
    return {
        "id": event.id,
        "event": event.event.value,
        "keyId": event.key_id,
        "environment": event.environment,
        "actor": event.actor,
        "requestId": event.request_id,
        "occurredAt": format_time(event.occurred_at),
        "data": dict(event.data),
    }


def _time(at: datetime | None) -> str | None:
    return None if at is None else format_time(at)
