"""One management request as the handlers see it (`Call`): who calls, for which account, and
what the caller may reach; and what every route shares (`RouteContext`).

Reach: every call stays in the caller's account, and a key manages keys of its own environment
only, except a key of the environment that manages every environment (`live` by default).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from starlette.requests import Request
from starlette.responses import Response

from keyguard.core import ForbiddenError, KeyRecord, NotFoundError, RateLimitDefaults
from keyguard.services import KeyManager

if TYPE_CHECKING:  # pydantic is imported only once management routes are built
    from .models import RequestModels

from .._json import success_response
from .fields import KEY_ID

__all__ = ["MANAGES_EVERY_ENVIRONMENT", "Call", "RouteContext"]

_NO_SUCH_KEY = "No API key with that id in this account."
MANAGES_EVERY_ENVIRONMENT = "live"  # the default; `management_routes` takes another, or None
# Management answers carry key metadata, and once a key value: no cache may keep them.
_NO_STORE = {"cache-control": "no-store"}


@dataclass(frozen=True, slots=True)
class RouteContext:
    """What every management route runs with."""

    manager: KeyManager
    environments: tuple[str, ...]
    keys_path: str  # where the routes serve the keys, e.g. /v1/account/api-keys
    manages_every_environment: str | None  # its keys manage every environment; None: none do
    models: RequestModels  # what bodies and query strings are read with
    # The settings' default rate limits: what a key with none of its own shows as effective.
    rate_limit_defaults: RateLimitDefaults


@dataclass(frozen=True, slots=True)
class Call:
    request: Request
    request_id: str
    caller: KeyRecord
    context: RouteContext

    @property
    def account(self) -> str:
        return self.caller.account

    @property
    def manager(self) -> KeyManager:
        return self.context.manager

    @property
    def models(self) -> RequestModels:
        return self.context.models

    @property
    def audit(self) -> dict[str, Any]:
        """What the audit log records of who did it: the caller's key, this request."""
        return {"actor": self.caller.id, "request_id": self.request_id}

    def ok(
        self,
        data: Any,
        *,
        status: int = 200,
        meta: Mapping[str, Any] | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> Response:
        extra = {**_NO_STORE, **(headers or {})}
        return success_response(data, self.request_id, status=status, meta=meta, headers=extra)

    def location(self, key_id: str) -> dict[str, str]:
        root = self.request.scope.get("root_path", "")
        return {"location": f"{root}{self.context.keys_path}/{key_id}"}

    @property
    def reaches_everything(self) -> bool:
        return self.caller.environment == self.context.manages_every_environment

    def check_reach(self, environment: str) -> None:
        mine = self.caller.environment
        if not self.reaches_everything and environment != mine:
            raise ForbiddenError(f"A {mine} key manages {mine} keys only.")

    async def key(self) -> KeyRecord:
        """The key the path names. Another account's key is "not found" exactly as an unknown
        one is, so ids cannot be probed; one of another environment is forbidden."""
        key_id = self.request.path_params["id"]
        if not KEY_ID.fullmatch(key_id):
            raise NotFoundError(_NO_SUCH_KEY)
        try:
            record = await self.manager.get(key_id, account=self.account)
        except NotFoundError:
            raise NotFoundError(_NO_SUCH_KEY) from None  # the path is theirs: not echoed
        self.check_reach(record.environment)
        return record
