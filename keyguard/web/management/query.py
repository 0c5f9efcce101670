"""The query strings of the management API: list filters, pagination, the audit log's filters,
read by the operation's model (`models`), then the cursors, which only a list can judge.

Unknown or repeated parameters are 400s, like unknown body fields: a typo in a filter must not
silently return everything. The account never comes from here: it is the caller's.
"""

from __future__ import annotations

from collections import Counter
from datetime import UTC, datetime
from typing import TYPE_CHECKING, Any, TypeVar

from starlette.datastructures import QueryParams

from keyguard.core import (
    MAX_NAME_LENGTH,
    Access,
    AuditQuery,
    FieldIssue,
    KeyQuery,
    KeySort,
    ValidationError,
    decode_cursor,
    id_pattern,
)

from .fields import MAX_CURSOR_LENGTH

if TYPE_CHECKING:  # pydantic is imported only once management routes are built
    from pydantic import BaseModel

    from .models import RequestModels

    Q = TypeVar("Q", bound=BaseModel)

__all__ = ["audit_query", "key_query", "no_params", "permanent"]


_EVENT_ID = id_pattern("evt_")
_KEY_ID = id_pattern("key_")
_BAD_CURSOR = "is not a cursor this list gave out"


def key_query(params: QueryParams, *, account: str, models: RequestModels) -> KeyQuery:
    q = _read(models, models.key_list, params)
    return KeyQuery(
        account=account,
        environment=q.environment,
        access=None if q.access is None else Access(q.access),
        status=q.status,
        search=q.q or None,
        sort=q.sort,
        limit=q.limit,
        cursor=None if q.cursor is None else _key_cursor(q.cursor, q.sort),
    )


def audit_query(params: QueryParams, *, account: str, models: RequestModels) -> AuditQuery:
    q = _read(models, models.audit_log, params)
    return AuditQuery(
        account=account,
        event=q.event,
        key_id=q.key_id,
        since=q.since,
        limit=q.limit,
        cursor=None if q.cursor is None else _audit_cursor(q.cursor),
    )


def permanent(params: QueryParams, models: RequestModels) -> bool:
    """`?permanent=true` turns a revoke into a delete; `false` (or nothing) is a revoke."""
    return _read(models, models.delete, params).permanent


def no_params(params: QueryParams, models: RequestModels) -> None:
    """For the operations that take no query parameters: any is an unknown field."""
    _read(models, models.none, params)


def _read(models: RequestModels, model: type[Q], params: QueryParams) -> Q:
    """The query string as `model`. A parameter given twice is an error of its own: which of
    the two a proxy or a framework would have used is anyone's guess."""
    counts = Counter(name for name, _ in params.multi_items())
    repeated = [FieldIssue(n, "is given more than once") for n, c in counts.items() if c > 1]
    try:
        found = models.read(model, dict(params.items()))
    except ValidationError as exc:
        raise ValidationError(
            [*repeated, *(i for i in exc.issues if counts[i.field] < 2)]
        ) from None
    if repeated:
        raise ValidationError(repeated)
    return found


def _key_cursor(cursor: str, sort: KeySort | None) -> str | None:
    if not cursor or sort is None:  # empty: the first page; no sort: that is the issue
        return cursor or None
    value, item_id = _decode(cursor, sort.value)
    sane = _KEY_ID.fullmatch(item_id) is not None and _sane_value(value, sort)
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
