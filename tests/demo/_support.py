"""Helpers for the demo and example tests: keys, headers, and checks on the envelope."""

from __future__ import annotations

import asyncio
import contextlib
import re
from collections.abc import AsyncIterator
from typing import Any, NamedTuple

import httpx
from starlette.types import ASGIApp, Message

from keyguard import CreatedKey, KeyGuard

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


class Keys(NamedTuple):
    sk_test: CreatedKey
    pk_test: CreatedKey
    sk_live: CreatedKey
    pk_live: CreatedKey


async def mint(guard: KeyGuard, access: str, environment: str, **kw: Any) -> CreatedKey:
    name = kw.pop("name", f"{access} {environment}")
    return await guard.manager.create(
        account=kw.pop("account", "acme"), name=name, environment=environment, access=access, **kw
    )


async def mint_all(guard: KeyGuard) -> Keys:
    return Keys(
        await mint(guard, "secret", "test"),
        await mint(guard, "publishable", "test"),
        await mint(guard, "secret", "live"),
        await mint(guard, "publishable", "live"),
    )


def bearer(key: CreatedKey) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.value}"}


def data_of(response: httpx.Response, status: int = 200) -> Any:
    """The `data` of a success envelope, after checking its whole shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"data", "error", "meta"}
    assert body["error"] is None
    _check_meta(response, body["meta"])
    return body["data"]


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The `error` of an error envelope, after checking its whole shape."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert set(body) == {"data", "error", "meta"}
    assert body["data"] is None
    assert set(body["meta"]) == {"requestId", "timestamp"}
    _check_meta(response, body["meta"])
    error: dict[str, Any] = body["error"]
    assert error["code"] == code
    assert isinstance(error["message"], str) and error["message"]
    return error


def _check_meta(response: httpx.Response, meta: dict[str, Any]) -> None:
    assert meta["requestId"] == response.headers["x-request-id"]
    assert TIMESTAMP.fullmatch(meta["timestamp"])


@contextlib.asynccontextmanager
async def lifespan(app: ASGIApp) -> AsyncIterator[None]:
    """Run an app's lifespan as a server does: startup before the block, shutdown after it."""
    to_app: asyncio.Queue[Message] = asyncio.Queue()
    from_app: asyncio.Queue[Message] = asyncio.Queue()
    scope = {"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}

    async def run() -> None:
        await app(scope, to_app.get, from_app.put)

    task = asyncio.create_task(run())
    await to_app.put({"type": "lifespan.startup"})
    assert (await asyncio.wait_for(from_app.get(), 5))["type"] == "lifespan.startup.complete"
    try:
        yield
    finally:
        await to_app.put({"type": "lifespan.shutdown"})
        assert (await asyncio.wait_for(from_app.get(), 5))["type"] == "lifespan.shutdown.complete"
        await asyncio.wait_for(task, 5)
