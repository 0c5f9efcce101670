"""What several fields share: the key id's form, the cursor's bound, RFC 3339 times."""

from __future__ import annotations

import re
from datetime import datetime

from keyguard.core import MAX_CURSOR_LENGTH, ValidationError, id_pattern, parse_time

__all__ = ["KEY_ID", "MAX_CURSOR_LENGTH", "rfc3339"]

KEY_ID = id_pattern("key_")
# RFC 3339 (what OpenAPI's `date-time` means): Python alone would also take dates, naive times
# and other ISO 8601 spellings that a schema-driven client would call invalid.
_RFC3339 = re.compile(
    r"\d{4}-\d{2}-\d{2}[Tt]\d{2}:\d{2}:\d{2}(\.\d{1,9})?([Zz]|[+-]\d{2}:\d{2})", re.ASCII
)


def rfc3339(value: object, field: str) -> datetime:
    """An RFC 3339 time with an offset, in UTC, to the millisecond (what the API prints)."""
    if not isinstance(value, str) or not _RFC3339.fullmatch(value):
        raise ValidationError.single(field, "must be an RFC 3339 time, e.g. 2030-01-01T00:00:00Z")
    try:
        at = parse_time(value.upper())
    except (ValueError, OverflowError):
        raise ValidationError.single(field, "is not a time that exists") from None
    return at.replace(microsecond=at.microsecond // 1000 * 1000)
