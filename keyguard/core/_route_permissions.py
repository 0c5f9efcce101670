"""What each route needs, stated once by the app: `{"POST /v1/orders": "orders:write"}`.

Rules use the access policy's syntax (`METHOD /path/{param}/*`). A route may need several
permissions (all of them), or none (`()`: any key that reaches it). Where several rules match,
the request needs what all of them name. A route no rule matches is *not listed*: the middleware
then refuses restricted keys there, so a route the table forgot is closed to them, not open.

Rules are grouped by what they need and each group compiled once: a lookup is one match per
distinct need, and is made only for restricted keys. What every literal route of the table needs
is worked out once, up front: most requests are a dict lookup.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ._access_policy import CompiledRoutes, RoutePattern
from ._permissions import is_permission

__all__ = ["RoutePermissions"]


class RoutePermissions:
    __slots__ = ("_groups", "_literal", "table")

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
        # Computed by the same matching as any other request: only faster to find.
        self._literal = {
            (method, path): self._match(method, path)
            for patterns in grouped.values()
            for p in patterns
            if None not in p.segments and not p.subtree and p.method != "*"
            for path in ["/" + "/".join(s for s in p.segments if s is not None)]
            for method in p.methods
        }

    def needed(self, method: str, path: str) -> tuple[str, ...] | None:
        """What the request needs, sorted; None when no rule lists its route."""
        try:
            return self._literal[(method, path)]
        except KeyError:
            return self._match(method, path)

    def _match(self, method: str, path: str) -> tuple[str, ...] | None:
        found: list[str] | None = None
        for routes, needs in self._groups:
            if routes.matches(method, path):
                found = [*(found or ()), *needs]
        return None if found is None else tuple(sorted(set(found)))

    def __bool__(self) -> bool:
        return bool(self._groups)

    def __repr__(self) -> str:
        return f"RoutePermissions({self.table!r})"
