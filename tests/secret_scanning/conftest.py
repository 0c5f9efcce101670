"""A guard on each store, behind the middleware, with the secret-scanning endpoint mounted
where keys are not asked for, and GitHub's public keys served by a real server."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable, Iterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from keyguard import KeyGuard, Settings
from keyguard.web import APIKeyMiddleware
from keyguard.web.secret_scanning import SecretScanningEndpoint

from .._github_keys import KeyDocumentServer, SigningKey

LEAKS = "/github/secret-scanning"
PEPPER = "scanning-pepper-not-a-secret"


async def whoami(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.state.api_key.id})


@pytest.fixture(scope="module")
def github_key() -> SigningKey:
    return SigningKey()


@pytest.fixture(scope="module")
def github(github_key: SigningKey) -> Iterator[KeyDocumentServer]:
    with KeyDocumentServer(github_key) as served:
        yield served


@pytest.fixture
def account() -> str:
    return f"leaks-{secrets.token_hex(6)}"


@pytest.fixture
async def guard(database_url: str) -> AsyncIterator[KeyGuard]:
    guard = KeyGuard(Settings(database_url=database_url, pepper=PEPPER))
    await guard.start()
    yield guard
    await guard.stop()


ClientFor = Callable[..., httpx.AsyncClient]


@pytest.fixture
def client_for(github: KeyDocumentServer) -> ClientFor:
    """`client_for(guard, action="flag", ...)`: a client of the app; its endpoint's options."""

    def make(guard: KeyGuard, **options: Any) -> httpx.AsyncClient:
        options.setdefault("public_keys_url", github.url)
        endpoint = SecretScanningEndpoint(guard, **options)
        inner = Starlette(routes=[Route("/v1/me", whoami), Route(LEAKS, endpoint)])
        app = APIKeyMiddleware(inner, guard=guard, public_paths=[LEAKS])
        return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")

    return make


@pytest.fixture
async def client(client_for: ClientFor, guard: KeyGuard) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(guard) as made:
        yield made
