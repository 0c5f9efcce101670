"""The query strings of the management API: list filters, pagination, the audit log's filters,
read by the operation's model (`models`), then the cursors, which only a list can judge
(`keyguard.core.checked_key_cursor`, which the admin page uses too).

Unknown or repeated parameters are 400s, like unknown body fields: a typo in a filter must not
silently return everything. The account never comes from here: it is the caller's.
"""

from __future__ import annotations

from collections import Counter
from typing import TYPE_CHECKING, TypeVar

from starlette.datastructures import QueryParams

from keyguard.core import (
    Access,
    AuditQuery,
    FieldIssue,
    KeyQuery,
    ValidationError,
    checked_audit_cursor,
    checked_key_cursor,
)

if TYPE_CHECKING:  # pydantic is imported only once management routes are built
    from pydantic import BaseModel

    from .models import RequestModels

    Q = TypeVar("Q", bound=BaseModel)

__all__ = ["audit_query", "key_query", "no_params", "permanent"]


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
        cursor=None if q.cursor is None else checked_key_cursor(q.cursor, q.sort),
    )


def audit_query(params: QueryParams, *, account: str, models: RequestModels) -> AuditQuery:
    q = _read(models, models.audit_log, params)
    return AuditQuery(
        account=account,
        event=q.event,
        key_id=q.key_id,
        since=q.since,
        limit=q.limit,
        cursor=None if q.cursor is None else checked_audit_cursor(q.cursor),
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
    known = {field.alias or name for name, field in model.model_fields.items()}
    repeated = [
        FieldIssue(n if n in known else "query", "is given more than once")
        for n, c in counts.items()
        if c > 1
    ]
    try:
        found = models.read(model, dict(params.items()))
    except ValidationError as exc:
        raise ValidationError(
            [*repeated, *(i for i in exc.issues if counts[i.field] < 2)]
        ) from None
    if repeated:
        raise ValidationError(repeated)
    return found
