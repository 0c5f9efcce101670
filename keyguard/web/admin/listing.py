"""The list: one table of the person's keys, with search, filters, sort and cursor pages, all in
the query string (GET changes nothing, and a filtered page can be bookmarked)."""

from __future__ import annotations

from typing import Any
from urllib.parse import urlencode

from starlette.exceptions import HTTPException
from starlette.responses import Response

from keyguard.core import (
    Access,
    KeyQuery,
    KeySort,
    KeyStatus,
    checked_key_cursor,
    has_hidden_characters,
    utcnow,
)

from .display import KeyView
from .reach import environments
from .visit import Visit

__all__ = ["SORTS", "list_keys"]

SORTS = {
    KeySort.CREATED_DESC: "Newest first",
    KeySort.CREATED: "Oldest first",
    KeySort.NAME: "Label, A to Z",
    KeySort.NAME_DESC: "Label, Z to A",
    KeySort.LAST_USED_DESC: "Recently used",
    KeySort.LAST_USED: "Least recently used",
}
_STATUSES = {s.value: s.value.capitalize() for s in KeyStatus}
_TYPES = {a.value: a.value.capitalize() for a in Access}
_FILTERS = ("q", "status", "type", "environment", "sort")
MAX_SEARCH = 100


async def list_keys(visit: Visit) -> Response:
    params = visit.request.query_params
    chosen = {name: params.get(name, "") for name in _FILTERS}
    query = _query(visit, chosen, params.get("cursor") or None)
    page = await visit.page.manager.list(query)
    now = utcnow()
    filters = {k: v for k, v in chosen.items() if v}
    if not visit.identity.manages_live and query.environment is not None:
        filters["environment"] = query.environment
    context: dict[str, Any] = {
        "rows": [KeyView.of(record, now) for record in page.items],
        "chosen": {**chosen, "environment": query.environment or ""},
        "statuses": _STATUSES,
        "types": _TYPES,
        "sorts": {s.value: label for s, label in SORTS.items()},
        "environments": environments(visit),
        "all_environments": visit.identity.manages_live,
        "next_url": _url(visit, filters, page.next_cursor) if page.next_cursor else None,
        "first_url": _url(visit, filters, None) if query.cursor else None,
        "done": params.get("done", ""),
        "filtered": any(chosen[name] for name in ("q", "status", "type")),
    }
    return visit.render("list.html", context)


def _query(visit: Visit, chosen: dict[str, str], cursor: str | None) -> KeyQuery:
    allowed = environments(visit)
    environment = chosen["environment"] or None
    if environment is None and not visit.identity.manages_live:
        environment = allowed[0]  # one environment at a time when some are out of reach
    _check(environment is None or environment in allowed, "That environment is not one of yours.")
    _check(chosen["status"] in ("", *_STATUSES), "Choose a status from the list.")
    _check(chosen["type"] in ("", *_TYPES), "Choose a type from the list.")
    _check(chosen["sort"] in ("", *SORTS), "Choose an order from the list.")
    _check(len(chosen["q"]) <= MAX_SEARCH, f"Search for at most {MAX_SEARCH} characters.")
    _check(not has_hidden_characters(chosen["q"]), "Search for visible characters only.")
    identity = visit.identity
    sort = KeySort(chosen["sort"]) if chosen["sort"] else KeySort.CREATED_DESC
    return KeyQuery(
        account=identity.account,
        owner=identity.owner if identity.own_keys_only else None,
        environment=environment,
        access=Access(chosen["type"]) if chosen["type"] else None,
        status=KeyStatus(chosen["status"]) if chosen["status"] else None,
        search=chosen["q"] or None,
        sort=sort,
        limit=visit.page.page_size,
        cursor=checked_key_cursor(cursor or "", sort),
    )


def _check(ok: bool, message: str) -> None:
    if not ok:
        raise HTTPException(400, message)


def _url(visit: Visit, filters: dict[str, str], cursor: str | None) -> str:
    query = {**filters, **({"cursor": cursor} if cursor else {})}
    return visit.base + (f"?{urlencode(query)}" if query else "")
