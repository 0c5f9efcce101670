"""List queries for keys and audit events (their cursors: `_cursors`)."""

from __future__ import annotations

import enum
from dataclasses import dataclass
from datetime import datetime

from ._errors import ValidationError
from ._keyformat import Access
from ._records import AuditEventType, KeyStatus

__all__ = ["AuditQuery", "KeyQuery", "KeySort"]


class KeySort(enum.StrEnum):
    CREATED = "createdAt"
    CREATED_DESC = "-createdAt"
    NAME = "name"
    NAME_DESC = "-name"
    LAST_USED = "lastUsedAt"
    LAST_USED_DESC = "-lastUsedAt"

    @property
    def descending(self) -> bool:
        return self.value.startswith("-")

    @property
    def field(self) -> str:
        return self.value.lstrip("-")


@dataclass(frozen=True, slots=True, kw_only=True)
class KeyQuery:
    account: str | None = None  # None: every account (operators, the CLI); never from HTTP
    owner: str | None = None
    environment: str | None = None
    access: Access | None = None
    status: KeyStatus | None = None
    search: str | None = None  # name contains, case-insensitive
    sort: KeySort = KeySort.CREATED_DESC
    limit: int = 20
    cursor: str | None = None

    def __post_init__(self) -> None:
        # `KeyQuery(status="active")` must filter, not be silently ignored: take the strings.
        _coerce(self, "access", Access)
        _coerce(self, "status", KeyStatus)
        _coerce(self, "sort", KeySort)


@dataclass(frozen=True, slots=True, kw_only=True)
class AuditQuery:
    account: str | None = None
    environment: str | None = None  # only events of keys of this environment
    event: AuditEventType | None = None
    key_id: str | None = None
    since: datetime | None = None
    limit: int = 20
    cursor: str | None = None  # newest first

    def __post_init__(self) -> None:
        _coerce(self, "event", AuditEventType)


def _coerce(query: object, field: str, kind: type[enum.Enum]) -> None:
    value = getattr(query, field)
    if value is not None and not isinstance(value, kind):
        try:
            object.__setattr__(query, field, kind(value))
        except ValueError:
            allowed = ", ".join(str(m.value) for m in kind)
            raise ValidationError.single(field, f"must be one of: {allowed}") from None
