"""The demo storefront: a small shop API behind keyguard, as `keyguard demo` serves it.

Publishable keys browse the catalogue, secret keys also add to it, and test keys see test data:
every handler takes the environment from the key the middleware attached. Every response, success
or error, is keyguard's JSON envelope.
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from starlette.applications import Starlette
from starlette.endpoints import HTTPEndpoint
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Route
from starlette.types import ASGIApp

from keyguard._guard import KeyGuard
from keyguard.core import KeyRecord, NotFoundError, detail_view, utcnow
from keyguard.web import (
    APIKeyMiddleware,
    install_error_handlers,
    request_id,
    success_response,
)

from ._catalogue import Catalogue, parse_new_product
from ._http import read_json
from ._index import index, what_to_try
from ._metrics import METRICS_PATH

if TYPE_CHECKING:  # the admin page is optional: keyguard[admin]
    from keyguard.web.admin import AdminPage

__all__ = [
    "ADMIN_PATH",
    "STOREFRONT_PUBLISHABLE_ROUTES",
    "STOREFRONT_ROUTE_PERMISSIONS",
    "create_app",
]

ADMIN_PATH = "/admin"  # where the demo mounts the admin page

# What a publishable key may call here: reading the catalogue and the public pages.
STOREFRONT_PUBLISHABLE_ROUTES = (
    "GET /v1/storefront/public/*",
    "GET /v1/storefront/products",
    "GET /v1/storefront/products/{id}",
)

# What a restricted key needs where (keys without permissions are not restricted). The
# management API checks its own (api_keys:read, api_keys:write), so its routes need nothing more
# here; a route this table does not list is closed to restricted keys.
STOREFRONT_ROUTE_PERMISSIONS = {
    "GET /v1/me": (),
    "GET /v1/storefront/public/*": (),
    "GET /v1/storefront/products": "products:read",
    "GET /v1/storefront/products/{id}": "products:read",
    "POST /v1/storefront/products": "products:write",
    "* /v1/account/*": (),
}

_PUBLIC_PAGES = {
    "info": {"name": "keyguard demo store", "currency": "USD", "contact": "shop@example.com"},
    "shipping": {"text": "Orders ship within two working days; returns are free for 30 days."},
}


def create_app(
    guard: KeyGuard,
    *,
    management_routes: Sequence[BaseRoute] = (),
    admin_page: AdminPage | None = None,
    metrics: ASGIApp | None = None,
) -> Starlette:
    """The storefront behind `APIKeyMiddleware`, with `management_routes` beside it, the
    admin page at `ADMIN_PATH` when one is given (it signs people in itself: no API key) and
    `metrics` (a `keyguard.metrics.metrics_app`, which checks its own token) at `METRICS_PATH`."""
    admin_routes = [] if admin_page is None else [admin_page.mount(ADMIN_PATH)]
    metrics_routes = [] if metrics is None else [Route(METRICS_PATH, metrics)]
    public_paths = _public_paths(admin_page, metrics)
    app = Starlette(
        routes=[
            Route("/", index, methods=["GET"]),
            Route("/health", health, methods=["GET"]),
            Route("/v1/me", me, methods=["GET"]),
            Route("/v1/storefront/products", Products),
            Route("/v1/storefront/products/{id}", get_product, methods=["GET"]),
            Route("/v1/storefront/public/{path:path}", public_page, methods=["GET"]),
            *management_routes,
            *admin_routes,
            *metrics_routes,
        ],
        middleware=[
            Middleware(
                APIKeyMiddleware,
                guard=guard,
                public_paths=public_paths,
                publishable_routes=STOREFRONT_PUBLISHABLE_ROUTES,
                route_permissions=STOREFRONT_ROUTE_PERMISSIONS,
            )
        ],
        lifespan=guard.lifespan,
    )
    install_error_handlers(app)
    app.state.catalogue = Catalogue()
    app.state.index = what_to_try(management_routes, None if admin_page is None else ADMIN_PATH)
    return app


def _public_paths(admin_page: AdminPage | None, metrics: ASGIApp | None) -> list[str]:
    public_paths = ["/", "/health"]  # "/" is that path alone, not everything below it
    if admin_page is not None:
        public_paths += admin_page.public_paths(ADMIN_PATH)
    if metrics is not None:  # a scrape is not a request to count, nor one with an API key
        public_paths.append(METRICS_PATH)
    return public_paths


def _key(request: Request) -> KeyRecord:
    record = request.state.api_key  # attached by the middleware: every route but / and /health
    assert isinstance(record, KeyRecord)
    return record


def _catalogue(request: Request) -> Catalogue:
    catalogue = request.app.state.catalogue
    assert isinstance(catalogue, Catalogue)
    return catalogue


async def health(request: Request) -> Response:
    return success_response({"status": "ok"}, request_id(request.scope))


async def me(request: Request) -> Response:
    """The caller's key as the management API shows it: metadata, never the value."""
    return success_response(detail_view(_key(request), utcnow()), request_id(request.scope))


class Products(HTTPEndpoint):
    """One endpoint for both methods, so that a 405 lists both in `Allow`."""

    async def get(self, request: Request) -> Response:
        environment = _key(request).environment
        products = [p.to_json() for p in _catalogue(request).list(environment)]
        meta = {"environment": environment}
        return success_response(products, request_id(request.scope), meta=meta)

    async def post(self, request: Request) -> Response:
        """Secret keys only: the middleware refuses publishable keys on anything but reads."""
        name, price = parse_new_product(await read_json(request))
        product = _catalogue(request).add(_key(request).environment, name, price)
        location = {"location": f"/v1/storefront/products/{product.id}"}
        rid = request_id(request.scope)
        return success_response(product.to_json(), rid, status=201, headers=location)


async def get_product(request: Request) -> Response:
    product_id = request.path_params["id"]
    product = _catalogue(request).get(_key(request).environment, product_id)
    if product is None:
        raise NotFoundError("No product with that id.")  # the path is the client's: not echoed
    return success_response(product.to_json(), request_id(request.scope))


async def public_page(request: Request) -> Response:
    path = request.path_params["path"]
    page = _PUBLIC_PAGES.get(path)
    if page is None:
        raise NotFoundError("No such public page.")
    data = {**page, "environment": _key(request).environment}
    return success_response(data, request_id(request.scope))
