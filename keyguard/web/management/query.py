"""The query strings of the management API: list filters, pagination, the audit log's filters.

Unknown or repeated parameters are 400s, like unknown body fields: a typo in a filter must not
silently return everything. The account never comes from here: it is the caller's.
"""

from __future__ import annotations

import re
from datetime import UTC, datetime
from typing import Any

from starlette.datastructures import QueryParams

from keyguard.core import (
    MAX_NAME_LENGTH,
    AuditEventType,
    AuditQuery,
    KeyQuery,
    KeySort,
    KeyStatus,
    ValidationError,
    decode_cursor,
    id_pattern,
    parse_access,
    validate_environment,
)
from keyguard.services import MAX_PAGE

from .fields import KEY_ID, Fields, rfc3339

__all__ = [
    "DEFAULT_LIMIT",
    "MAX_CURSOR_LENGTH",
    "audit_query",
    "key_query",
    "no_params",
    "permanent",
]

DEFAULT_LIMIT = 20
MAX_CURSOR_LENGTH = 512
_LIMIT = re.compile(r"[0-9]{1,3}")
_EVENT_ID = id_pattern("evt_")
_KEY_PARAMS = ("environment", "access", "status", "q", "sort", "limit", "cursor")
_AUDIT_PARAMS = ("event", "keyId", "since", "limit", "cursor")
_BAD_CURSOR = "is not a cursor this list gave out"


def key_query(params: QueryParams, *, account: str, environments: tuple[str, ...]) -> KeyQuery:
    fields = Fields.from_query(params, _KEY_PARAMS)
    sort = fields.optional("sort", lambda v: _choice(KeySort, v, "sort"), KeySort.CREATED_DESC)
    query = KeyQuery(
        account=account,
        environment=fields.optional("environment", lambda v: _environment(v, environments), None),
        access=fields.optional("access", parse_access, None),
        status=fields.optional("status", lambda v: _choice(KeyStatus, v, "status"), None),
        search=fields.optional("q", _search, None),
        sort=sort,
        limit=fields.optional("limit", _limit, DEFAULT_LIMIT),
        cursor=fields.optional("cursor", lambda v: _key_cursor(v, sort), None),
    )
    fields.done()
    return query


def audit_query(params: QueryParams, *, account: str) -> AuditQuery:
    fields = Fields.from_query(params, _AUDIT_PARAMS)
    query = AuditQuery(
        account=account,
        event=fields.optional("event", lambda v: _choice(AuditEventType, v, "event"), None),
        key_id=fields.optional("keyId", _key_id, None),
        since=fields.optional("since", lambda v: rfc3339(v, "since"), None),
        limit=fields.optional("limit", _limit, DEFAULT_LIMIT),
        cursor=fields.optional("cursor", _audit_cursor, None),
    )
    fields.done()
    return query


def permanent(params: QueryParams) -> bool:
    """`?permanent=true` turns a revoke into a delete; `false` (or nothing) is a revoke."""
    fields = Fields.from_query(params, ("permanent",))
    flag = fields.optional("permanent", _boolean, False)
    fields.done()
    return flag


def no_params(params: QueryParams) -> None:
    """For the operations that take no query parameters: any is an unknown field."""
    Fields.from_query(params, ()).done()


def _choice(kind: Any, value: str, field: str) -> Any:
    try:
        return kind(value)
    except ValueError:
        choices = ", ".join(member.value for member in kind)
        raise ValidationError.single(field, f"must be one of: {choices}") from None


def _environment(value: str, environments: tuple[str, ...]) -> str:
    return validate_environment(value, environments)


def _boolean(value: str) -> bool:
    if value not in ("true", "false"):
        raise ValidationError.single("permanent", "must be true or false")
    return value == "true"


def _search(value: str) -> str | None:
    if len(value) > MAX_NAME_LENGTH or not value.isprintable():
        raise ValidationError.single("q", f"must be at most {MAX_NAME_LENGTH} printable characters")
    return value or None


def _limit(value: str) -> int:
    if not _LIMIT.fullmatch(value) or not 1 <= int(value) <= MAX_PAGE:
        raise ValidationError.single("limit", f"must be a whole number from 1 to {MAX_PAGE}")
    return int(value)


def _key_id(value: str) -> str:
    if not KEY_ID.fullmatch(value):
        raise ValidationError.single("keyId", "is not an API key id")
    return value


def _key_cursor(cursor: str, sort: KeySort | None) -> str | None:
    if not cursor or sort is None:  # empty: the first page; no sort: that is the issue
        return cursor or None
    value, item_id = _decode(cursor, sort.value)
    sane = KEY_ID.fullmatch(item_id) is not None and _sane_value(value, sort)
    if not sane:
        raise ValidationError.single("cursor", _BAD_CURSOR)
    return cursor


def _audit_cursor(cursor: str) -> str | None:
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
