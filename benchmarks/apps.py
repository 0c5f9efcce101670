"""The apps measured: a bare Starlette app (the baseline every ratio is taken against), and the
same app behind keyguard's `APIKeyMiddleware` in each configuration the report names.

Every app, the alternatives included, answers `GET /v1/ping` with the same small JSON body, so
the only difference between two of them is how they authenticate.
"""

from __future__ import annotations

from typing import Any

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from keyguard import APIKeyMiddleware, KeyGuard, Observer, Settings
from keyguard.adapters import LocalFailureLimiter

from .environment import BenchEnv
from .restricted import PUBLISHABLE_ROUTES, ROUTE_PERMISSIONS

__all__ = ["LONG_TTL", "PATH", "REDIS_TTL", "bare_starlette", "keyguard_app", "ping"]

PATH = "/v1/ping"
LONG_TTL = 3600.0  # a local-cache hit must stay a hit for the whole run
# A Redis hit too: at keyguard's default (60 s) the entry expired during the full mode's
# in-process phase (231 s) and a timed request became a store hit. At most the change log's
# retention (1 h) less 60 s, as Settings requires.
REDIS_TTL = 1800.0
# Rejections are measured on their 401 path: with the default limit (20 a minute) one client's
# garbage turns into 429s after the 20th request, a different (equally cheap) code path.
NO_LIMIT = 10**9


async def ping(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


def bare_starlette() -> Starlette:
    return Starlette(routes=[Route(PATH, ping)])


def keyguard_app(
    env: BenchEnv,
    *,
    redis: bool = True,
    local_ttl: float | None = None,
    limit: bool = True,
    routes: bool = False,
    observer: Observer | None = None,
) -> APIKeyMiddleware:
    """The bare app behind keyguard on this run's Postgres; `local_ttl=None` keeps keyguard's
    defaults (local 1 s, Redis 60 s), else the local TTL is `local_ttl` (0: off) and Redis
    entries live REDIS_TTL; `limit=False` lifts the failure limit;
    `routes=True` opens the route to publishable keys and gives the middleware issue 13's route
    table (`restricted.py`), which only restricted keys are checked against; `observer` is
    issue 15's (None: keyguard's default, nothing reports)."""
    options: dict[str, Any] = {}
    if local_ttl is not None:  # the local TTL may not exceed the staleness bound
        options = {"local_cache_ttl": local_ttl, "max_staleness": max(1.0, local_ttl)}
        options["redis_cache_ttl"] = REDIS_TTL
    settings = Settings(
        database_url=env.database_url,
        redis_url=env.redis_url if redis else None,
        redis_prefix=env.redis_prefix,
        pepper=env.pepper,
        **options,
    )
    limiter = None if limit else LocalFailureLimiter(limit=NO_LIMIT)
    table: dict[str, Any] = {}
    if routes:
        table = {"publishable_routes": PUBLISHABLE_ROUTES, "route_permissions": ROUTE_PERMISSIONS}
    guard = KeyGuard(settings, observer=observer)
    return APIKeyMiddleware(bare_starlette(), guard=guard, failure_limiter=limiter, **table)
