"""Usage limits through the real middleware: a guard per test counting in this process (SQLite,
no Redis) and one counting in the real Redis (a prefix of its own), apps that answer 200."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from keyguard import KeyGuard, Settings
from keyguard.web import APIKeyMiddleware

DEFAULTS = {"sk_live": "2/m"}


async def ok_app(scope: Scope, receive: Receive, send: Send) -> None:
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": b"ok"})


@pytest.fixture(params=["here", "redis"])
async def guard(
    request: pytest.FixtureRequest, tmp_path: Path, redis_url: str, redis_prefix: str
) -> AsyncIterator[KeyGuard]:
    redis = request.param == "redis"
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/k.db",
        pepper="usage pepper",
        redis_url=redis_url if redis else None,
        redis_prefix=f"{redis_prefix}{secrets.token_hex(3)}:",
        default_rate_limits=DEFAULTS,
    )
    guard = KeyGuard(settings)
    await guard.start()
    yield guard
    await guard.stop()


Client = Callable[..., httpx.AsyncClient]


@pytest.fixture
def client_for(guard: KeyGuard) -> Client:
    def make(app: Any = ok_app, **options: Any) -> httpx.AsyncClient:
        wrapped = APIKeyMiddleware(app, guard=guard, **options)
        transport = httpx.ASGITransport(app=wrapped, client=("127.0.0.1", 5000))
        return httpx.AsyncClient(transport=transport, base_url="http://test")

    return make


async def mint(guard: KeyGuard, **options: Any) -> tuple[str, str]:
    """A new live secret key (unless `options` say otherwise): (value, id)."""
    options = {"environment": "live", "access": "secret", **options}
    created = await guard.manager.create(account="acme", name="k", **options)
    return created.value, created.record.id


def bearer(key: str, **headers: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}", **headers}
