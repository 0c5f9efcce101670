"""A started guard on a fresh SQLite file, and clients for the test app behind the middleware."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from keyguard import APIKeyMiddleware, KeyGuard

from ._support import PUBLIC, PUBLISHABLE, MakeClient, build_app


@pytest.fixture
def client_for(guard: KeyGuard) -> MakeClient:
    def make(*, middleware: bool = True, handlers: bool = True) -> httpx.AsyncClient:
        app = build_app(handlers=handlers)
        if middleware:
            app.add_middleware(
                APIKeyMiddleware, guard=guard, public_paths=PUBLIC, publishable_routes=PUBLISHABLE
            )
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")

    return make


@pytest.fixture
async def client(client_for: MakeClient) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for() as c:
        yield c
