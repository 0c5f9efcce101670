"""The opaque cursors that page through lists, and their checks.

A cursor holds the sort value and id of the last item shown, so pages stay stable while keys are
created and revoked (keyset pagination, never OFFSET). Every edge that takes a cursor from a
client (the management API, the admin page) checks it here first: a forged one is a 400, and
never a store error (PostgreSQL fails on a NUL, or on a date out of its range).
"""

from __future__ import annotations

import base64
import binascii
import json
from datetime import UTC, datetime
from typing import Any

from ._errors import ValidationError
from ._ids import id_pattern
from ._queries import KeySort
from ._validation import MAX_NAME_LENGTH

__all__ = [
    "MAX_CURSOR_LENGTH",
    "checked_audit_cursor",
    "checked_key_cursor",
    "decode_cursor",
    "encode_cursor",
]

MAX_CURSOR_LENGTH = 512  # longer, it was not given out by a list
_EVENT_ID = id_pattern("evt_")
_KEY_ID = id_pattern("key_")
_BAD_CURSOR = "is not a cursor this list gave out"


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
        raise ValidationError.single("cursor", _BAD_CURSOR)
    return value, item_id


def checked_key_cursor(cursor: str, sort: KeySort | None) -> str | None:
    """`cursor` if a key list sorted by `sort` could have given it out, None for no cursor;
    else ValidationError('cursor'). What a forged cursor holds never reaches the store."""
    if not cursor or sort is None:  # empty: the first page; no sort: that is the issue
        return cursor or None
    value, item_id = _decode(cursor, sort.value)
    sane = _KEY_ID.fullmatch(item_id) is not None and _sane_value(value, sort)
    if not sane:
        raise ValidationError.single("cursor", _BAD_CURSOR)
    return cursor


def checked_audit_cursor(cursor: str) -> str | None:
    """The same, for the audit log."""
    if not cursor:
        return None
    value, item_id = _decode(cursor, "audit")
    if value is not None or not _EVENT_ID.fullmatch(item_id):
        raise ValidationError.single("cursor", _BAD_CURSOR)
    return cursor


def _decode(cursor: str, kind: str) -> tuple[Any, str]:
    # A cursor goes back into a query: one that was not given out must not reach the store.
    if len(cursor) > MAX_CURSOR_LENGTH:
        raise ValidationError.single("cursor", _BAD_CURSOR)
    return decode_cursor(cursor, kind)


def _sane_value(value: Any, sort: KeySort) -> bool:
    if sort.field == "name":
        return isinstance(value, str) and value.isprintable() and len(value) <= MAX_NAME_LENGTH
    if value is None:
        return sort.field == "lastUsedAt"
    if not isinstance(value, str):
        return False
    try:
        at = datetime.fromisoformat(value)
        at.astimezone(UTC)  # out of range at the edges of time: the store would fail on it
    except (ValueError, OverflowError):
        return False
    return at.tzinfo is not None
