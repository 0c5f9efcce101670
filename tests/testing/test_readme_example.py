"""README's "Testing your app" example, as written there: tests/test_readme.py checks that the
README quotes everything below this docstring."""

import httpx
import pytest
from starlette.applications import Starlette
from starlette.middleware import Middleware
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.testclient import TestClient

from keyguard import APIKeyMiddleware, KeyGuard
from keyguard.testing import mint, mint_sync


def create_app(guard: KeyGuard) -> Starlette:  # your app, built around the guard it is given
    async def orders(request: Request) -> JSONResponse:
        return JSONResponse({"environment": request.state.api_key.environment})

    return Starlette(
        routes=[Route("/orders", orders)],
        middleware=[Middleware(APIKeyMiddleware, guard=guard)],
    )


def test_a_test_key_sees_test_orders(keyguard_guard: KeyGuard) -> None:
    with TestClient(create_app(keyguard_guard)) as client:  # its lifespan starts the guard
        key = mint_sync(client, keyguard_guard)  # sk_test_...; environment=, access=, account=
        answer = client.get("/orders", headers={"Authorization": f"Bearer {key}"})
        assert answer.json() == {"environment": "test"}
        assert client.get("/orders").status_code == 401


@pytest.mark.asyncio  # pytest-asyncio; or anyio's marker
async def test_a_live_key_sees_live_orders(keyguard_guard: KeyGuard) -> None:
    transport = httpx.ASGITransport(app=create_app(keyguard_guard))
    async with keyguard_guard, httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        key = await mint(keyguard_guard, environment="live")
        answer = await http.get("/orders", headers={"Authorization": f"Bearer {key}"})
        assert answer.json() == {"environment": "live"}
