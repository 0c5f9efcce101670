"""List queries for keys and audit events, and the opaque cursors that page through them.

A cursor holds the sort value and id of the last item shown, so pages stay stable while keys are
created and revoked (keyset pagination, never OFFSET).
"""

from __future__ import annotations

import base64
import binascii
import enum
import json
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from ._errors import ValidationError
from ._keyformat import Access
from ._records import AuditEventType, KeyStatus

__all__ = ["AuditQuery", "KeyQuery", "KeySort", "decode_cursor", "encode_cursor"]


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


def encode_cursor(kind: str, value: Any, item_id: str) -> str:
    raw = json.dumps([kind, value, item_id], separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).rstrip(b"=").decode()


def decode_cursor(cursor: str, kind: str) -> tuple[Any, str]:
    """Return (sort value, id) of a cursor made for `kind`, or raise ValidationError('cursor')."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        got_kind, value, item_id = json.loads(raw)
    except (binascii.Error, ValueError, TypeError):
        got_kind = value = item_id = None
    if got_kind != kind or not isinstance(item_id, str):
        raise ValidationError.single("cursor", "is not a cursor this list gave out")
    return value, item_id
