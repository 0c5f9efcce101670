"""The one-route app every end-to-end test puts behind `APIKeyMiddleware`.

The failure limiter is raised far above anything the tests reach: they poll revoked keys on
purpose, and the default limit (20 failures a minute per client) would start answering 429,
even for valid keys, which is what it is for but not what these tests measure.
"""

from __future__ import annotations

from collections.abc import Sequence

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import BaseRoute, Route

from keyguard import KeyGuard
from keyguard.adapters import LocalFailureLimiter
from keyguard.web import APIKeyMiddleware
from keyguard.web.secret_scanning import SecretScanningEndpoint

PING = "/v1/ping"
LEAKS = "/github/secret-scanning"


async def ping(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.state.api_key.id})


def build_app(
    guard: KeyGuard,
    *,
    github_keys_url: str | None = None,
    more_routes: Sequence[BaseRoute] = (),
) -> APIKeyMiddleware:
    """The app; given where GitHub's public keys are, with the secret-scanning endpoint too,
    and any `more_routes` (the management API, for tests/hosts)."""
    routes: list[BaseRoute] = [Route(PING, ping), *more_routes]
    if github_keys_url:
        routes.append(Route(LEAKS, SecretScanningEndpoint(guard, public_keys_url=github_keys_url)))
    return APIKeyMiddleware(
        Starlette(routes=routes),
        guard=guard,
        public_paths=[LEAKS],
        failure_limiter=LocalFailureLimiter(limit=1_000_000_000),
    )
