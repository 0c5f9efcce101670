"""What each route needs, stated once by the app: `{"POST /v1/orders": "orders:write"}`.

Rules use the access policy's syntax (`METHOD /path/{param}/*`). A route may need several
permissions (all of them), or none (`()`: any key that reaches it). Where several rules match,
the request needs what all of them name. A route no rule matches is *not listed*: the middleware
then refuses restricted keys there, so a route the table forgot is closed to them, not open.

Rules are grouped by what they need and each group compiled once: a lookup is one match per
distinct need, and is made only for restricted keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ._access_policy import CompiledRoutes, RoutePattern
from ._permissions import is_permission

__all__ = ["RoutePermissions"]


class RoutePermissions:
    __slots__ = ("_groups", "table")

    def __init__(self, table: Mapping[str, str | Iterable[str]]) -> None:
        grouped: dict[tuple[str, ...], list[RoutePattern]] = {}
        for rule, needs in table.items():
            names = (needs,) if isinstance(needs, str) else tuple(needs)
            for name in names:
                if not isinstance(name, str):
                    raise ValueError(f"route {rule!r}: a permission is a string, not {name!r}")
                if not is_permission(name):
                    raise ValueError(
                        f"route {rule!r}: {name!r} is not a permission"
                        " (resource:action; the resource env is reserved)"
                    )
            grouped.setdefault(tuple(sorted(set(names))), []).append(RoutePattern.parse(rule))
        self.table = dict(table)
        self._groups = tuple((CompiledRoutes(p), needs) for needs, p in grouped.items())

    def needed(self, method: str, path: str) -> tuple[str, ...] | None:
        """What the request needs, sorted; None when no rule lists its route."""
        found: list[str] | None = None
        for routes, needs in self._groups:
            if routes.matches(method, path):
                found = [*(found or ()), *needs]
        return None if found is None else tuple(sorted(set(found)))

    def __bool__(self) -> bool:
        return bool(self._groups)

    def __repr__(self) -> str:
        return f"RoutePermissions({self.table!r})"
