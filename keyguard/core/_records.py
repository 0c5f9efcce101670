"""What the lifecycle API hands out: key records (never the value), audit events, pages."""

from __future__ import annotations

import enum
from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from types import MappingProxyType
from typing import Any, Generic, TypeVar

from ._keyformat import Access
from ._quotas import Quota
from ._rate_limits import RateLimit

__all__ = [
    "AccountSettings",
    "AuditEvent",
    "AuditEventType",
    "CreatedKey",
    "KeyRecord",
    "KeyStatus",
    "Page",
    "freeze_mapping",
]

T = TypeVar("T")
_EMPTY: Mapping[str, Any] = MappingProxyType({})


def freeze_mapping(data: Mapping[str, Any] | None) -> Mapping[str, Any]:
    return MappingProxyType(dict(data)) if data else _EMPTY


class KeyStatus(enum.StrEnum):
    ACTIVE = "active"
    REVOKED = "revoked"
    EXPIRED = "expired"


class AuditEventType(enum.StrEnum):
    CREATED = "api_key.created"
    RENAMED = "api_key.renamed"
    REVOKED = "api_key.revoked"
    DELETED = "api_key.deleted"
    ROLLED = "api_key.rolled"
    LEAKED = "api_key.leaked"  # reported found in public (e.g. by GitHub secret scanning)
    PERMISSIONS_CHANGED = "api_key.permissions_changed"  # permissions, origins or networks
    LIMITS_CHANGED = "api_key.limits_changed"  # rate limits or quota (set, reset or lifted)
    # A valid key used from the wrong place; the first per key and kind in an hour is logged.
    REFUSED_ORIGIN = "api_key.refused_origin"
    REFUSED_NETWORK = "api_key.refused_network"
    REFUSED_BROWSER = "api_key.refused_browser"


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyRecord:
    """A key's metadata. It holds no secret: the value exists only in `CreatedKey`, once."""

    id: str
    name: str
    account: str
    owner: str | None
    environment: str
    access: Access
    prefix: str
    last4: str
    created_at: datetime
    last_used_at: datetime | None = None
    revoked_at: datetime | None = None
    expires_at: datetime | None = None
    replaced_by: str | None = None
    metadata: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, hash=False, compare=False)
    # What the key may do and where from; None is "not restricted" (an empty set allows nothing).
    permissions: frozenset[str] | None = None
    allowed_origins: tuple[str, ...] | None = None  # publishable keys only
    allowed_networks: tuple[str, ...] | None = None  # secret keys only
    # How much it may be used: None is the settings' default for its access and environment,
    # () no rate limit; no quota when None (see `_usage_limits`).
    rate_limits: tuple[RateLimit, ...] | None = None
    quota: Quota | None = None
    # Whose counts its use spends (None: its own): a rolled key's successor spends its
    # predecessor's (the first of the chain's), so a roll hands out no second quota.
    counted_as: str | None = None
    # The store's change-log sequence number of the key's last change (0: never changed). It
    # only grows, so a cached copy older than a change a process has heard of can be told apart.
    version: int = field(default=0, compare=False)

    @property
    def restricted(self) -> bool:
        return not (
            self.permissions is None
            and self.allowed_origins is None
            and self.allowed_networks is None
        )

    def status(self, now: datetime) -> KeyStatus:
        if self.revoked_at is not None:
            return KeyStatus.REVOKED
        if self.expires_at is not None and self.expires_at <= now:
            return KeyStatus.EXPIRED
        return KeyStatus.ACTIVE

    def is_valid(self, now: datetime) -> bool:
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


@dataclass(frozen=True, slots=True)
class CreatedKey:
    """A new key's record and its value: the one time the value is ever available."""

    record: KeyRecord
    value: str = field(repr=False)

    def __repr__(self) -> str:
        return (
            f"CreatedKey(record={self.record!r}, value='{self.record.prefix}…{self.record.last4}')"
        )


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditEvent:
    id: str
    event: AuditEventType
    account: str
    key_id: str | None
    actor: str
    request_id: str | None
    occurred_at: datetime
    data: Mapping[str, Any] = field(default_factory=lambda: _EMPTY, hash=False, compare=False)
    # The environment of the key the event concerns: a test key reads test keys' history only.
    environment: str | None = None


@dataclass(frozen=True, slots=True)
class AccountSettings:
    account: str
    one_secret_key_per_owner: bool = False


@dataclass(frozen=True, slots=True)
class Page(Generic[T]):
    items: Sequence[T]
    next_cursor: str | None = None
