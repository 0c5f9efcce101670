"""What the start-up tests' uvicorn serves, chosen by STARTUP_APP: the host app's own Starlette
app with a lifespan of its own (it writes STARTUP_MARKER as it starts and stops), a bare ASGI
callable that speaks no lifespan, or an app whose own start-up fails; each behind
`APIKeyMiddleware`, with settings from KEYGUARD_* variables."""

from __future__ import annotations

import os
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route
from starlette.types import Receive, Scope, Send

from keyguard import KeyGuard
from keyguard.web import APIKeyMiddleware

MARKER = Path(os.environ["STARTUP_MARKER"])


@asynccontextmanager
async def _host_lifespan(app: Starlette) -> AsyncIterator[None]:
    MARKER.write_text("started")  # noqa: ASYNC240 - once, a few bytes
    app.state.ready = True
    yield
    MARKER.write_text("stopped")  # noqa: ASYNC240


@asynccontextmanager
async def _failing_lifespan(app: Starlette) -> AsyncIterator[None]:
    raise RuntimeError("the host app's own start-up failed")
    yield


async def state(request: Request) -> JSONResponse:
    return JSONResponse({"ready": getattr(request.app.state, "ready", False)})


async def whoami(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.state.api_key.id})


async def bare(scope: Scope, receive: Receive, send: Send) -> None:
    assert scope["type"] == "http"  # no lifespan here, as in many small apps
    await send({"type": "http.response.start", "status": 200, "headers": []})
    await send({"type": "http.response.body", "body": scope["state"]["api_key"].id.encode()})


def _build() -> APIKeyMiddleware:
    kind = os.environ["STARTUP_APP"]
    guard = KeyGuard.from_env()
    if kind == "bare":
        return APIKeyMiddleware(bare, guard=guard)
    lifespan = _failing_lifespan if kind == "failing" else _host_lifespan
    routes = [Route("/state", state), Route("/v1/me", whoami)]
    inner = Starlette(routes=routes, lifespan=lifespan)
    return APIKeyMiddleware(inner, guard=guard, public_paths=["/state"])


app = _build()
