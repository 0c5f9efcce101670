"""The middleware's route-permission check for keys that carry permissions."""

from __future__ import annotations

import logging
from collections.abc import Iterable, Mapping

from starlette.types import Scope

from keyguard.core import Permissions, RoutePermissions

from ._json import request_id
from ._refusals import Refusal, Refusals
from ._responses import Rejection

__all__ = ["RouteGate"]

logger = logging.getLogger("keyguard.web._middleware")  # where this warning was always logged


class RouteGate:
    def __init__(
        self, route_permissions: Mapping[str, str | Iterable[str]] | None, refusals: Refusals
    ) -> None:
        # A route the table does not list is closed to keys with permissions.
        self.table = RoutePermissions(route_permissions or {})
        self._refusals = refusals
        self._told_no_table = False

    def refuses(self, scope: Scope, permissions: Permissions) -> Refusal | Rejection | None:
        """Why a key with these permissions may not call this route; None if it may."""
        if not self.table:
            self._say_no_table()
            return None
        needed = self.table.needed(scope.get("method", "GET"), scope["path"])
        if needed is None:
            return Refusal.UNLISTED_ROUTE
        missing = permissions.lacking(needed)
        return self._refusals.lacking(missing, request_id(scope)) if missing else None

    def _say_no_table(self) -> None:
        # Once: the app may check permissions itself (@requires, require()), or may not.
        if not self._told_no_table:
            self._told_no_table = True
            logger.warning(
                "a key with permissions reached the app, and this middleware has no"
                " route_permissions: its permissions are checked only where the app asks"
                " (@requires, require(permissions=...)); pass route_permissions to close every"
                " route the table does not list to such keys"
            )
