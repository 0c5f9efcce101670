"""The SQL of the lists: filters, sort and keyset pagination (a cursor holds the sort value
and id of the last item shown, so pages stay stable while keys come and go; never OFFSET)."""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime
from typing import Any

from keyguard.core import (
    NEVER_USED,
    AuditQuery,
    KeyQuery,
    KeyStatus,
    audit_cursor_position,
    key_cursor_position,
)

from ._sql_shapes import AUDIT_COLUMNS, KEY_COLUMNS

__all__ = ["audit_list_sql", "key_list_sql"]

EncodeTime = Callable[[datetime | None], Any]
_SORT_EXPRESSIONS = {
    "createdAt": "created_at",
    "name": "name",
    "lastUsedAt": "coalesce(last_used_at, {never})",
}


class _Params:
    """Collects query arguments and hands out `$n` placeholders for them."""

    def __init__(self) -> None:
        self.args: list[Any] = []

    def __call__(self, value: Any) -> str:
        self.args.append(value)
        return f"${len(self.args)}"


def _like_pattern(text: str) -> str:
    escaped = text.lower().replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_")
    return f"%{escaped}%"


def key_list_sql(query: KeyQuery, now: datetime, t: EncodeTime) -> tuple[str, list[Any]]:
    """One more row than the page holds: its presence says there is a next page."""
    p = _Params()
    where = _key_filters(query, now, p, t)
    sort_sql = _SORT_EXPRESSIONS[query.sort.field]
    if "{never}" in sort_sql:
        sort_sql = sort_sql.format(never=p(t(NEVER_USED)))
    if query.cursor is not None:
        value, last_id = key_cursor_position(query.cursor, query.sort)
        v = p(value if isinstance(value, str) else t(value))
        op = "<" if query.sort.descending else ">"
        where.append(f"({sort_sql} {op} {v} OR ({sort_sql} = {v} AND id {op} {p(last_id)}))")
    direction = "DESC" if query.sort.descending else "ASC"
    sql = (
        f"SELECT {KEY_COLUMNS} FROM keyguard_keys WHERE {' AND '.join(where) or 'TRUE'}"
        f" ORDER BY {sort_sql} {direction}, id {direction} LIMIT {p(query.limit + 1)}"
    )
    return sql, p.args


def audit_list_sql(query: AuditQuery, t: EncodeTime) -> tuple[str, list[Any]]:
    """Newest first; ids are ULIDs, so their order is time order."""
    p = _Params()
    where = [
        f"{column} = {p(value)}"
        for column, value in (
            ("account", query.account),
            ("environment", query.environment),
            ("event", query.event.value if query.event else None),
            ("key_id", query.key_id),
        )
        if value is not None
    ]
    if query.since is not None:
        where.append(f"occurred_at >= {p(t(query.since))}")
    if query.cursor is not None:
        where.append(f"id < {p(audit_cursor_position(query.cursor))}")
    sql = (
        f"SELECT {AUDIT_COLUMNS} FROM keyguard_audit_log WHERE {' AND '.join(where) or 'TRUE'}"
        f" ORDER BY id DESC LIMIT {p(query.limit + 1)}"
    )
    return sql, p.args


def _key_filters(query: KeyQuery, now: datetime, p: _Params, t: EncodeTime) -> list[str]:
    where = [
        f"{column} = {p(value)}"
        for column, value in (
            ("account", query.account),
            ("owner", query.owner),
            ("environment", query.environment),
            ("access", query.access.value if query.access else None),
        )
        if value is not None
    ]
    if query.status is KeyStatus.ACTIVE:
        now_sql = p(t(now))
        where.append(f"revoked_at IS NULL AND (expires_at IS NULL OR expires_at > {now_sql})")
    elif query.status is KeyStatus.REVOKED:
        where.append("revoked_at IS NOT NULL")
    elif query.status is KeyStatus.EXPIRED:
        where.append(f"revoked_at IS NULL AND expires_at <= {p(t(now))}")
    if query.search:
        where.append(f"lower(name) LIKE {p(_like_pattern(query.search))} ESCAPE '\\'")
    return where
