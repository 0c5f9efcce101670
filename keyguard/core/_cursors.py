"""The cursors that page through lists: what they hold, and the grammar every edge checks.

A cursor holds the position of the last item shown (keyset pagination, never OFFSET), so pages
stay stable while keys are created and revoked. Clients treat it as opaque, but its grammar is
public and total: every string that matches `KEY_CURSOR` (or `AUDIT_CURSOR`) is a position the
store can start after, so what the API's schema allows the server accepts, and a forged cursor
only moves where a page starts. What it holds never fails in the store either (PostgreSQL
refuses a NUL, or a date out of its range).

    key list:  <hex of the sort value>.<key id>   (name: its UTF-8; a time: microseconds
                                                   since 0001-01-01, big-endian; no time: empty)
    audit log: <event id>                         (ids are ULIDs: their order is time order)
"""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from ._errors import ValidationError
from ._ids import ULID_PATTERN
from ._queries import KeySort
from ._records import KeyRecord
from ._validation import MAX_NAME_LENGTH

__all__ = [
    "AUDIT_CURSOR",
    "KEY_CURSOR",
    "MAX_CURSOR_LENGTH",
    "NEVER_USED",
    "audit_cursor",
    "audit_cursor_position",
    "checked_audit_cursor",
    "checked_key_cursor",
    "key_cursor",
    "key_cursor_position",
]

NEVER_USED = datetime(1, 1, 1, tzinfo=UTC)  # a time's zero: sorts a key never used first
_MAX_VALUE_BYTES = 4 * MAX_NAME_LENGTH  # a name of the longest, in UTF-8
_MAX_MICROSECONDS = (datetime(9999, 12, 31, tzinfo=UTC) - NEVER_USED) // timedelta(microseconds=1)
KEY_CURSOR = re.compile(rf"((?:[0-9a-f]{{2}}){{0,{_MAX_VALUE_BYTES}}})\.(key_{ULID_PATTERN})")
AUDIT_CURSOR = re.compile(f"evt_{ULID_PATTERN}")
MAX_CURSOR_LENGTH = 2 * _MAX_VALUE_BYTES + len(".key_") + 26
_BAD_CURSOR = "is not a cursor a list gives out"


def key_cursor(sort: KeySort, last: KeyRecord) -> str:
    """The cursor of a key list that ended with `last`."""
    if sort.field == "name":
        value = last.name.encode()
    else:
        at = last.created_at if sort.field == "createdAt" else last.last_used_at
        ticks = 0 if at is None else (at - NEVER_USED) // timedelta(microseconds=1)
        value = ticks.to_bytes((ticks.bit_length() + 7) // 8, "big")
    return f"{value.hex()}.{last.id}"


def key_cursor_position(cursor: str, sort: KeySort) -> tuple[str | datetime, str]:
    """(sort value, key id) a key list starts after; any cursor the grammar allows has one."""
    found = KEY_CURSOR.fullmatch(cursor)
    if found is None:
        raise ValidationError.single("cursor", _BAD_CURSOR)
    raw, key_id = bytes.fromhex(found[1]), found[2]
    if sort.field == "name":
        # Not a name we gave out, perhaps: a position all the same, in text a store can hold.
        return raw.decode("utf-8", "replace").replace("\0", "\ufffd"), key_id
    ticks = min(int.from_bytes(raw, "big"), _MAX_MICROSECONDS)
    return NEVER_USED + timedelta(microseconds=ticks), key_id


def checked_key_cursor(cursor: str, sort: KeySort | None) -> str | None:
    """`cursor` if it is one (None for none: the first page); else ValidationError('cursor')."""
    if not cursor:
        return None
    key_cursor_position(cursor, sort or KeySort.CREATED_DESC)
    return cursor


def audit_cursor(last_id: str) -> str:
    return last_id


def audit_cursor_position(cursor: str) -> str:
    """The event id an audit page starts after (older events come next)."""
    if AUDIT_CURSOR.fullmatch(cursor) is None:
        raise ValidationError.single("cursor", _BAD_CURSOR)
    return cursor


def checked_audit_cursor(cursor: str) -> str | None:
    return audit_cursor_position(cursor) if cursor else None
