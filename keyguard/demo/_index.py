"""`GET /`: the demo's front door, with no key needed. Someone who opens the server's address
in a browser, or curls it, learns what to try and which key each path wants."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route

from keyguard.web import request_id, success_response

__all__ = ["index", "what_to_try"]

_OPENAPI_ROUTE = "keyguard:openapi"  # the name management_routes gives its document's route
_EITHER = "secret or publishable"


def what_to_try(management_routes: Sequence[BaseRoute], admin_path: str | None) -> dict[str, Any]:
    """The index's data: every path of this app worth a first request, with the key it wants."""
    paths = [
        _path("GET", "/health", "none", "whether the service is up"),
        _path("GET", "/v1/me", "secret", "the key you sent: its metadata, never its value"),
        _path("GET", "/v1/storefront/products", _EITHER, "the catalogue; test keys see test data"),
        _path("POST", "/v1/storefront/products", "secret", 'add one: {"name": "Mug", "price": 9}'),
        _path("GET", "/v1/storefront/public/info", _EITHER, "a page of the shop's own"),
    ]
    for route in management_routes:
        if isinstance(route, Route) and route.name == _OPENAPI_ROUTE:
            what = "the management API (keys, audit log) as OpenAPI"
            paths.append(_path("GET", route.path, "secret", what))
    if admin_path is not None:
        key = "none: open the one-time link `keyguard demo` printed"
        paths.append(_path("GET", admin_path, key, "manage keys in a browser"))
    return {
        "name": "keyguard demo storefront",
        "keys": "send one as `Authorization: Bearer <key>`; `keyguard demo` prints two",
        "try": paths,
    }


def _path(method: str, path: str, key: str, what: str) -> dict[str, str]:
    return {"method": method, "path": path, "key": key, "what": what}


async def index(request: Request) -> Response:
    return success_response(request.app.state.index, request_id(request.scope))
