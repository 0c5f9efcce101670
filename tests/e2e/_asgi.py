"""The one-route app every end-to-end test puts behind `APIKeyMiddleware`.

The failure limiter is raised far above anything the tests reach: they poll revoked keys on
purpose, and the default limit (20 failures a minute per client) would start answering 429,
even for valid keys, which is what it is for but not what these tests measure.
"""

from __future__ import annotations

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from keyguard import KeyGuard
from keyguard.adapters import LocalFailureLimiter
from keyguard.web import APIKeyMiddleware

PING = "/v1/ping"


async def ping(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.state.api_key.id})


def build_app(guard: KeyGuard) -> APIKeyMiddleware:
    return APIKeyMiddleware(
        Starlette(routes=[Route(PING, ping)]),
        guard=guard,
        failure_limiter=LocalFailureLimiter(limit=1_000_000_000),
    )
