"""The ways people authenticate API keys today, written as their users write them: what keyguard
is compared with.

Each looks the key up in Postgres on every request (a SHA-256 hex digest in a `user_api_keys`
table of its own, through an asyncpg pool made in the app's lifespan): Starlette's
`AuthenticationMiddleware` with a backend, a hand-rolled `BaseHTTPMiddleware`, and FastAPI's
`APIKeyHeader` dependency.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import AsyncIterator
from typing import Annotated, Any

import asyncpg
from fastapi import Depends, FastAPI, HTTPException, Security
from fastapi.security import APIKeyHeader
from starlette.applications import Starlette
from starlette.authentication import (
    AuthCredentials,
    AuthenticationBackend,
    AuthenticationError,
    BaseUser,
    SimpleUser,
    requires,
)
from starlette.middleware import Middleware
from starlette.middleware.authentication import AuthenticationMiddleware
from starlette.middleware.base import BaseHTTPMiddleware, RequestResponseEndpoint
from starlette.requests import HTTPConnection, Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from keyguard import Access, KeyFormat

from .apps import PATH, ping
from .environment import BenchEnv

__all__ = ["base_http_app", "create_user_key", "fastapi_header_app", "starlette_auth_app"]

USER_TABLE_SQL = (
    "CREATE TABLE user_api_keys (id serial PRIMARY KEY, key_hash text NOT NULL UNIQUE,"
    " name text NOT NULL, account text NOT NULL, revoked_at timestamptz)"
)
LOOKUP = "SELECT id, name, account FROM user_api_keys WHERE key_hash = $1 AND revoked_at IS NULL"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_user_key(database_url: str) -> str:
    """The alternatives' table, with one key in it: the same shape as keyguard's keys."""
    key = KeyFormat().generate(Access.SECRET, "test")
    conn = await asyncpg.connect(database_url, timeout=5)
    try:
        await conn.execute(USER_TABLE_SQL)
        await conn.execute(
            "INSERT INTO user_api_keys (key_hash, name, account) VALUES ($1, 'bench', 'bench')",
            _hash(key),
        )
    finally:
        await conn.close()
    return key


def _pool_lifespan(env: BenchEnv) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(env.database_url)
        try:
            yield
        finally:
            await app.state.pool.close()

    return lifespan


# Starlette's AuthenticationMiddleware with a backend that asks Postgres every time.


class PostgresKeyBackend(AuthenticationBackend):
    async def authenticate(self, conn: HTTPConnection) -> tuple[AuthCredentials, BaseUser] | None:
        header = conn.headers.get("authorization")
        if header is None:
            return None
        scheme, _, key = header.partition(" ")
        if scheme.lower() != "bearer" or not key:
            raise AuthenticationError("Invalid authorization header")
        row = await conn.app.state.pool.fetchrow(LOOKUP, _hash(key))
        if row is None:
            raise AuthenticationError("Invalid API key")
        return AuthCredentials(["authenticated"]), SimpleUser(row["name"])


def _auth_error(conn: HTTPConnection, exc: Exception) -> Response:
    return JSONResponse({"detail": str(exc)}, status_code=401)


def starlette_auth_app(env: BenchEnv) -> Starlette:
    middleware = [
        Middleware(AuthenticationMiddleware, backend=PostgresKeyBackend(), on_error=_auth_error)
    ]
    route = Route(PATH, requires("authenticated")(ping))
    return Starlette(routes=[route], middleware=middleware, lifespan=_pool_lifespan(env))


# A hand-rolled BaseHTTPMiddleware doing the same lookup.


class APIKeyAuthMiddleware(BaseHTTPMiddleware):
    async def dispatch(self, request: Request, call_next: RequestResponseEndpoint) -> Response:
        scheme, _, key = request.headers.get("authorization", "").partition(" ")
        if scheme.lower() != "bearer" or not key:
            return JSONResponse({"detail": "Not authenticated"}, status_code=401)
        row = await request.app.state.pool.fetchrow(LOOKUP, _hash(key))
        if row is None:
            return JSONResponse({"detail": "Invalid API key"}, status_code=401)
        request.state.api_key = dict(row)
        return await call_next(request)


def base_http_app(env: BenchEnv) -> Starlette:
    return Starlette(
        routes=[Route(PATH, ping)],
        middleware=[Middleware(APIKeyAuthMiddleware)],
        lifespan=_pool_lifespan(env),
    )


# FastAPI's APIKeyHeader dependency with the lookup in the dependency.

_api_key_header = APIKeyHeader(name="X-API-Key")


async def _current_key(
    request: Request, key: Annotated[str, Security(_api_key_header)]
) -> dict[str, Any]:
    row = await request.app.state.pool.fetchrow(LOOKUP, _hash(key))
    if row is None:
        raise HTTPException(status_code=401, detail="Invalid API key")
    return dict(row)


def fastapi_header_app(env: BenchEnv) -> FastAPI:
    app = FastAPI(lifespan=_pool_lifespan(env), openapi_url=None, docs_url=None, redoc_url=None)

    @app.get(PATH)
    async def protected(
        api_key: Annotated[dict[str, Any], Depends(_current_key)],
    ) -> dict[str, Any]:
        return {"ok": True}

    return app
