"""The ways people authenticate API keys today, written as their users write them.

Three hand-written ones look the key up in Postgres on every request (a SHA-256 hex digest in a
`user_api_keys` table, through an asyncpg pool made in the app's lifespan): Starlette's
`AuthenticationMiddleware` with a backend, a `BaseHTTPMiddleware`, and FastAPI's `APIKeyHeader`
dependency. The fourth is a published package, keyshield (fastapi-api-key was renamed to it),
set up as its README shows: FastAPI, SQLAlchemy on asyncpg, Argon2, a session per request; run
with its defaults and, separately, with its random response delay turned off.
"""

# No `from __future__ import annotations` here: FastAPI reads the `Annotated[..., Depends()]`
# of functions defined inside `keyshield_app`, whose types are local names it could not resolve
# from strings.

import contextlib
import hashlib
import importlib.metadata
import importlib.util
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

from .apps import PATH, ping_body
from .environment import BenchEnv, sqlalchemy_url

__all__ = [
    "KEYSHIELD_EXTRAS",
    "base_http_app",
    "create_user_table",
    "fastapi_header_app",
    "keyshield_app",
    "keyshield_problem",
    "keyshield_version",
    "mint_keyshield_key",
    "starlette_auth_app",
]

USER_TABLE_SQL = """
CREATE TABLE IF NOT EXISTS user_api_keys (
    id serial PRIMARY KEY,
    key_hash text NOT NULL UNIQUE,
    name text NOT NULL,
    account text NOT NULL,
    revoked_at timestamptz
)"""
LOOKUP = "SELECT id, name, account FROM user_api_keys WHERE key_hash = $1 AND revoked_at IS NULL"
KEYSHIELD_EXTRAS = "pip install 'keyshield[fastapi,sqlalchemy,argon2]' 'sqlalchemy[asyncio]'"


def _hash(key: str) -> str:
    return hashlib.sha256(key.encode()).hexdigest()


async def create_user_table(database_url: str, key: str) -> None:
    conn = await asyncpg.connect(database_url, timeout=5)
    try:
        await conn.execute(USER_TABLE_SQL)
        await conn.execute(
            "INSERT INTO user_api_keys (key_hash, name, account) VALUES ($1, 'bench', 'bench')",
            _hash(key),
        )
    finally:
        await conn.close()


def _database(env: BenchEnv) -> str:
    if env.database_url is None:
        raise RuntimeError("the per-request lookups need PostgreSQL")
    return env.database_url


def _pool_lifespan(env: BenchEnv) -> Any:
    @contextlib.asynccontextmanager
    async def lifespan(app: Any) -> AsyncIterator[None]:
        app.state.pool = await asyncpg.create_pool(_database(env))
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


@requires("authenticated")
async def _protected_ping(request: Request) -> JSONResponse:
    return JSONResponse(ping_body())


def starlette_auth_app(env: BenchEnv) -> Starlette:
    middleware = [
        Middleware(AuthenticationMiddleware, backend=PostgresKeyBackend(), on_error=_auth_error)
    ]
    return Starlette(
        routes=[Route(PATH, _protected_ping)], middleware=middleware, lifespan=_pool_lifespan(env)
    )


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


async def _ping(request: Request) -> JSONResponse:
    return JSONResponse(ping_body())


def base_http_app(env: BenchEnv) -> Starlette:
    return Starlette(
        routes=[Route(PATH, _ping)],
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
    async def ping(api_key: Annotated[dict[str, Any], Depends(_current_key)]) -> dict[str, Any]:
        return ping_body()

    return app


# keyshield, from PyPI, as its README sets it up.


def keyshield_version() -> str | None:
    try:
        return importlib.metadata.version("keyshield")
    except importlib.metadata.PackageNotFoundError:
        return None


def keyshield_problem() -> str | None:
    """Why keyshield cannot run here, or None when it can."""
    needed = ("keyshield", "sqlalchemy", "argon2", "greenlet")
    absent = [name for name in needed if importlib.util.find_spec(name) is None]
    if absent:
        return f"keyshield is not usable ({', '.join(absent)} missing): {KEYSHIELD_EXTRAS}"
    return None


def keyshield_app(env: BenchEnv, *, delay: bool) -> FastAPI:
    """keyshield's README example; `delay=False` sets its random 0.1-0.3 s delay to zero."""
    from keyshield import ApiKey, ApiKeyService
    from keyshield.api import create_depends_api_key
    from keyshield.hasher.argon2 import Argon2ApiKeyHasher
    from keyshield.repositories.sql import SqlAlchemyApiKeyRepository
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

    engine = create_async_engine(sqlalchemy_url(_database(env)))
    sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
    hasher = Argon2ApiKeyHasher(pepper=env.pepper)

    async def inject_async_session() -> AsyncIterator[AsyncSession]:
        async with sessions() as session, session.begin():
            yield session

    async def inject_svc_api_keys(
        session: Annotated[AsyncSession, Depends(inject_async_session)],
    ) -> ApiKeyService:
        # The README also calls `repo.ensure_table(...)` here, on every request; it is done
        # once at start-up instead, which can only make keyshield look faster.
        repo = SqlAlchemyApiKeyRepository(session)
        if delay:  # the library's own default delay, whatever it is in this version
            return ApiKeyService(repo=repo, hasher=hasher)
        return ApiKeyService(repo=repo, hasher=hasher, min_delay=0.0, max_delay=0.0)

    @contextlib.asynccontextmanager
    async def lifespan(app: FastAPI) -> AsyncIterator[None]:
        async with sessions() as session:
            await SqlAlchemyApiKeyRepository(session).ensure_table(async_engine=engine)
        yield
        await engine.dispose()

    security = create_depends_api_key(inject_svc_api_keys)
    app = FastAPI(lifespan=lifespan, openapi_url=None, docs_url=None, redoc_url=None)

    @app.get(PATH)
    async def ping(api_key: Annotated[ApiKey, Depends(security)]) -> dict[str, Any]:
        return ping_body()

    return app


async def mint_keyshield_key(env: BenchEnv) -> str:
    from keyshield import ApiKeyService
    from keyshield.hasher.argon2 import Argon2ApiKeyHasher
    from keyshield.repositories.sql import SqlAlchemyApiKeyRepository
    from sqlalchemy.ext.asyncio import AsyncSession, async_sessionmaker, create_async_engine

    engine = create_async_engine(sqlalchemy_url(_database(env)))
    try:
        sessions = async_sessionmaker(engine, class_=AsyncSession, expire_on_commit=False)
        async with sessions() as session, session.begin():
            repo = SqlAlchemyApiKeyRepository(session)
            await repo.ensure_table(async_engine=engine)
            service = ApiKeyService(repo=repo, hasher=Argon2ApiKeyHasher(pepper=env.pepper))
            _, key = await service.create(name="bench")
    finally:
        await engine.dispose()
    return key
