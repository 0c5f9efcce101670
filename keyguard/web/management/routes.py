"""The management API's route table: which path and method runs which handler.

app = APIKeyMiddleware(Starlette(routes=[*management_routes(guard), ...]), guard=guard)
fastapi_app.router.routes.extend(management_routes(guard))  # behind the same middleware
"""

from __future__ import annotations

from starlette.routing import BaseRoute, Route, Router
from starlette.types import Receive, Scope, Send

from keyguard._guard import KeyGuard

from .context import MANAGES_EVERY_ENVIRONMENT, RouteContext
from .document import OpenAPIEndpoint
from .grants import READ, WRITE
from .handlers import (
    create_key,
    delete_key,
    get_key,
    list_keys,
    read_audit_log,
    roll_key,
    update_key,
)
from .resource import Endpoint, Handler, NotFound, Resource, secret_only

__all__ = ["DEFAULT_PREFIX", "ManagementAPI", "management_routes"]

DEFAULT_PREFIX = "/v1/account"


def management_routes(
    guard: KeyGuard,
    *,
    prefix: str = DEFAULT_PREFIX,
    manages_every_environment: str | None = MANAGES_EVERY_ENVIRONMENT,
) -> list[BaseRoute]:
    """The routes, ending with a catch-all that answers 404 for anything else under `prefix`:
    list your own routes under the same prefix before these. Keys of the environment
    `manages_every_environment` manage keys of every environment; others (and all keys, with
    None) manage their own environment's only."""
    prefix = prefix.rstrip("/")
    if prefix and not prefix.startswith("/"):
        raise ValueError(f"the prefix must start with '/', got {prefix!r}")
    environments = guard.key_format.environments
    if manages_every_environment not in (None, *environments):
        raise ValueError(f"unknown environment {manages_every_environment!r}")
    from .models import request_models  # here: pydantic loads when management is used

    keys = f"{prefix}/api-keys"
    models = request_models(environments)
    defaults = guard.settings.rate_limit_defaults()
    s = RouteContext(guard.manager, environments, keys, manages_every_environment, models, defaults)
    one = f"{keys}/{{id}}"
    return [
        _secret(s, keys, "api_keys", {"GET": (list_keys, READ), "POST": (create_key, WRITE)}),
        _secret(
            s,
            one,
            "api_key",
            {"GET": (get_key, READ), "PATCH": (update_key, WRITE), "DELETE": (delete_key, WRITE)},
        ),
        _secret(s, f"{one}/roll", "api_key_roll", {"POST": (roll_key, WRITE)}),
        _secret(s, f"{prefix}/audit-log", "audit_log", {"GET": (read_audit_log, READ)}),
        _route(
            f"{prefix}/openapi.json", "openapi", {"GET": OpenAPIEndpoint(prefix, s.environments)}
        ),
        Route(f"{prefix}/{{path:path}}", NotFound(), name="keyguard:not_found"),
    ]


def _secret(
    s: RouteContext, path: str, name: str, handlers: dict[str, tuple[Handler, str]]
) -> Route:
    """Each method's handler, for secret keys only, with the permission a restricted key
    needs to call it."""
    endpoints = {method: secret_only(s, h, need) for method, (h, need) in handlers.items()}
    return _route(path, name, endpoints)


def _route(path: str, name: str, endpoints: dict[str, Endpoint]) -> Route:
    return Route(path, Resource(path, endpoints), name=f"keyguard:{name}")


class ManagementAPI:
    """The routes as one ASGI app, e.g. `app.mount("/v1/account", ManagementAPI(guard,
    prefix=""))` in FastAPI. Like the routes, it needs `APIKeyMiddleware` in front of it."""

    def __init__(
        self,
        guard: KeyGuard,
        *,
        prefix: str = DEFAULT_PREFIX,
        manages_every_environment: str | None = MANAGES_EVERY_ENVIRONMENT,
    ) -> None:
        routes = management_routes(
            guard, prefix=prefix, manages_every_environment=manages_every_environment
        )
        self.router = Router(routes=routes, default=NotFound())

    @property
    def routes(self) -> list[BaseRoute]:
        """As a Starlette app has: what a `Mount` of this lists (FastAPI's document reads it)."""
        return self.router.routes

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        await self.router(scope, receive, send)
