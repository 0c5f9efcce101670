"""A readiness route for orchestrators: 200 when this process can check keys within its
bounds, else 503, in the envelope either way, with what answered and what did not.

    Route("/ready", readiness_endpoint(guard))   # and list "/ready" in public_paths
"""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response

from keyguard._guard import KeyGuard
from keyguard.core import ErrorCode

from ._errors import RETRY_AFTER_SECONDS
from ._json import error_response, request_id, success_response

__all__ = ["readiness_endpoint"]


def readiness_endpoint(guard: KeyGuard) -> Callable[[Request], Awaitable[Response]]:
    async def ready(request: Request) -> Response:
        if not guard.started:  # no lifespan started it: a probe may (else it never would)
            with contextlib.suppress(Exception):  # what failed is in the log, and below
                await guard.start(wait=False)
        health = await guard.health()
        rid = request_id(request.scope)
        if health.ready:
            return success_response(health.as_dict(), rid, headers={"cache-control": "no-store"})
        # Our own words only: what failed is in the log, not for whoever asks.
        return error_response(
            ErrorCode.SERVICE_UNAVAILABLE,
            f"keyguard cannot check keys right now: store {health.store},"
            f" change log {health.changes}, redis {health.redis}.",
            rid,
            status=503,
            headers={"retry-after": str(RETRY_AFTER_SECONDS)},
        )

    return ready
