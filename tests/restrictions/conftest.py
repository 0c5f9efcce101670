"""Restricted keys through the real middleware, on SQLite and on the real PostgreSQL: a guard
per test on each store, apps of each kind, and keys minted with restrictions."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.authentication import requires
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from keyguard import KeyGuard, Settings
from keyguard.core import AuditEvent, AuditQuery
from keyguard.web import APIKeyMiddleware, install_error_handlers

PUBLISHABLE = ["GET /v1/products", "GET /v1/products/{id}", "POST /v1/carts"]
ROUTES = {
    "GET /v1/orders": "orders:read",
    "GET /v1/orders/{id}": "orders:read",
    "POST /v1/orders": "orders:write",
    "POST /v1/orders/{id}/refund": ["orders:write", "refunds:write"],
    "GET /v1/products": "products:read",
    "GET /v1/products/{id}": "products:read",
    "POST /v1/carts": "carts:write",
    "GET /v1/me": (),
}


async def whoami(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.state.api_key.id, "scopes": list(request.auth.scopes)})


@requires("orders:write")
async def needs_orders_write(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.state.api_key.id})


def starlette_app() -> Starlette:
    app = Starlette(
        routes=[
            Route("/v1/me", whoami),
            Route("/v1/orders", whoami, methods=["GET", "POST"]),
            Route("/v1/orders/{id}", whoami),
            Route("/v1/orders/{id}/refund", whoami, methods=["POST"]),
            Route("/v1/products", whoami),
            Route("/v1/products/{id}", whoami),
            Route("/v1/carts", whoami, methods=["POST"]),
            Route("/v1/admin/export", whoami),  # in no route table: closed to restricted keys
            Route("/v1/decorated", needs_orders_write, methods=["POST"]),
        ]
    )
    install_error_handlers(app)
    return app


class BareApp:
    """A bare ASGI callable that counts the requests that reach it."""

    def __init__(self) -> None:
        self.calls = 0

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        assert scope["type"] == "http"
        self.calls += 1
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture
async def guard(database_url: str) -> AsyncIterator[KeyGuard]:
    """A started guard on SQLite and on PostgreSQL in turn."""
    guard = KeyGuard(Settings(database_url=database_url, pepper="restrictions pepper"))
    await guard.start()
    yield guard
    await guard.stop()


Client = Callable[..., httpx.AsyncClient]


@pytest.fixture
def client_for(guard: KeyGuard) -> Client:
    def make(
        app: Any = None, *, client: tuple[str, int] = ("127.0.0.1", 5000), **options: Any
    ) -> httpx.AsyncClient:
        options.setdefault("publishable_routes", PUBLISHABLE)
        wrapped = APIKeyMiddleware(app or starlette_app(), guard=guard, **options)
        transport = httpx.ASGITransport(app=wrapped, client=client)
        return httpx.AsyncClient(transport=transport, base_url="http://test")

    return make


async def mint(guard: KeyGuard, access: str = "secret", **restrictions: Any) -> tuple[str, str]:
    """A new key of a fresh account: (value, id)."""
    created = await guard.manager.create(
        account="acme", name="k", environment="live", access=access, **restrictions
    )
    return created.value, created.record.id


def bearer(key: str, **headers: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}", **headers}


async def audit_of(guard: KeyGuard, key_id: str) -> list[AuditEvent]:
    await guard.refusal_log.drain()
    events = (await guard.manager.audit(AuditQuery(account="acme", key_id=key_id))).items
    return [e for e in events if e.event.value.startswith("api_key.refused_")]
