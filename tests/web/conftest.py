from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket

from keyguard import KeyGuard
from keyguard.demo.storefront import STOREFRONT_PUBLISHABLE_ROUTES
from keyguard.web import APIKeyMiddleware


async def whoami(request: Request) -> JSONResponse:
    key = request.state.api_key
    return JSONResponse(
        {
            "id": key.id,
            "env": key.environment,
            "user": request.user.identity,
            "scopes": request.auth.scopes,
        }
    )


async def health(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True, "key": "api_key" in request.scope.get("state", {})})


async def echo_socket(websocket: WebSocket) -> None:
    await websocket.accept()
    await websocket.send_text(websocket.state.api_key.id)
    await websocket.close()


def storefront() -> Starlette:
    return Starlette(
        routes=[
            Route("/health", health),
            Route("/v1/me", whoami),
            Route("/v1/storefront/products", whoami, methods=["GET", "POST"]),
            Route("/v1/storefront/products/{id}", whoami),
            Route("/v1/storefront/public/{path:path}", whoami),
            WebSocketRoute("/v1/socket", echo_socket),
        ]
    )


MakeClient = Callable[..., httpx.AsyncClient]


@pytest.fixture
def client_for(guard: KeyGuard) -> MakeClient:
    def make(**options: Any) -> httpx.AsyncClient:
        options.setdefault("public_paths", ["/health"])
        options.setdefault("publishable_routes", STOREFRONT_PUBLISHABLE_ROUTES)
        app = APIKeyMiddleware(storefront(), guard=guard, **options)
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")

    return make


@pytest.fixture
async def client(client_for: MakeClient) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for() as c:
        yield c


async def mint(
    guard: KeyGuard, access: str = "secret", environment: str = "test", **kw: Any
) -> str:
    created = await guard.manager.create(
        account=kw.pop("account", "acme"), name="k", environment=environment, access=access, **kw
    )
    return created.value
