"""The apps measured: a bare Starlette app (the baseline), the same under FastAPI, and the bare
app behind keyguard's `APIKeyMiddleware` in each configuration the issue names.

Every app answers `GET /v1/ping` with the same small JSON body (with the worker's pid, so the
multi-worker runs can tell which process answered).
"""

from __future__ import annotations

import os
from typing import Any, Literal

from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from keyguard import APIKeyMiddleware, KeyGuard, Settings
from keyguard.adapters import LocalFailureLimiter

from .environment import BenchEnv

__all__ = ["PATH", "bare_fastapi", "bare_starlette", "keyguard_app", "ping_body"]

PATH = "/v1/ping"
LONG_TTL = 3600.0  # a local-cache hit must stay a hit for the whole run
# Rejections are measured on their 401 path: with the default limit (20 a minute) one client's
# garbage turns into 429s after the 20th request, a different (equally cheap) code path.
NO_LIMIT = 10**9


def ping_body() -> dict[str, Any]:
    return {"ok": True, "pid": os.getpid()}


async def _ping(request: Request) -> JSONResponse:
    return JSONResponse(ping_body())


def bare_starlette() -> Starlette:
    return Starlette(routes=[Route(PATH, _ping)])


def bare_fastapi() -> FastAPI:
    app = FastAPI(openapi_url=None, docs_url=None, redoc_url=None)

    @app.get(PATH)
    async def ping() -> dict[str, Any]:
        return ping_body()

    return app


def keyguard_app(
    env: BenchEnv,
    *,
    store: Literal["postgres", "sqlite"] = "postgres",
    redis: bool = True,
    local_ttl: float | None = None,
    unlimited_failures: bool = False,
) -> APIKeyMiddleware:
    """The bare Starlette app behind keyguard; `local_ttl=None` keeps keyguard's default."""
    database_url = env.sqlite_url if store == "sqlite" else env.database_url
    if database_url is None:
        raise RuntimeError("keyguard on Postgres needs PostgreSQL")
    options: dict[str, Any] = {}
    if local_ttl is not None:  # the local TTL may not exceed the staleness bound
        options = {"local_cache_ttl": local_ttl, "max_staleness": max(1.0, local_ttl)}
    settings = Settings(
        database_url=database_url,
        redis_url=env.redis_url if redis else None,
        redis_prefix=env.redis_prefix,
        pepper=env.pepper,
        **options,
    )
    limiter = LocalFailureLimiter(limit=NO_LIMIT) if unlimited_failures else None
    return APIKeyMiddleware(bare_starlette(), guard=KeyGuard(settings), failure_limiter=limiter)
