"""The in-process cases: which app, which key, what answer proves the case is what it claims."""

from __future__ import annotations

import contextlib
from collections.abc import Awaitable, Callable
from dataclasses import dataclass, field
from typing import Any, Literal

import asyncpg
import redis.asyncio as aioredis

from keyguard import APIKeyMiddleware, KeyHasher, KeyRecord
from keyguard.adapters._sql_shapes import KEY_COLUMNS  # the very query keyguard's store runs
from keyguard.core import CredentialProblem, extract_key
from keyguard.services import Verdict

from . import alternatives as alt
from .apps import LONG_TTL, bare_fastapi, bare_starlette, keyguard_app
from .environment import BenchEnv
from .inprocess import (
    Case,
    Headers,
    Lifespan,
    app_case,
    async_case,
    expect_lookups,
    http_scope,
    sync_case,
)

__all__ = ["LABELS", "Suite", "bearer", "build_suite", "garbage_of"]

LABELS = {
    "bare.starlette": "bare Starlette app (baseline)",
    "bare.fastapi": "bare FastAPI app",
    "floor": "floor: extract_key + keyed BLAKE3 + dict lookup",
    "keyguard.local_hit": "keyguard, local-cache hit",
    "keyguard.redis_hit": "keyguard, Redis hit (local cache off)",
    "keyguard.redis_hit.verify": "  Redis hit: verifier.verify(key) alone (no middleware, app)",
    "keyguard.store_hit.postgres": "keyguard, store hit, Postgres (no Redis, no local cache)",
    "keyguard.store_hit.postgres.verify": "  Postgres hit: verifier.verify(key) alone",
    "keyguard.store_hit.sqlite": "keyguard, store hit, SQLite (no Redis, no local cache)",
    "keyguard.garbage": "keyguard, garbage key (bad checksum) -> 401",
    "keyguard.missing": "keyguard, no key -> 401",
    "keyguard.garbage.decision": "  garbage: decision only (no response sent)",
    "keyguard.missing.decision": "  no key: decision only (no response sent)",
    "ref.redis_get": "bare redis-py GET of the same entry",
    "ref.asyncpg_fetch": "bare asyncpg prepared fetchrow of the same row",
    "alt.starlette_auth": "Starlette AuthenticationMiddleware + asyncpg lookup",
    "alt.base_http": "BaseHTTPMiddleware + asyncpg lookup",
    "alt.fastapi_header": "FastAPI APIKeyHeader dependency + asyncpg lookup",
    "alt.keyshield": "keyshield (PyPI), defaults: Argon2 + 0.1-0.3 s delay",
    "alt.keyshield_nodelay": "keyshield (PyPI), delay off",
}


Store = Literal["postgres", "sqlite"]


def _main_store(env: BenchEnv) -> Store:
    return "postgres" if env.key_pg else "sqlite"


def bearer(key: str) -> Headers:
    return [(b"authorization", b"Bearer " + key.encode())]


def garbage_of(key: str) -> str:
    """The key with its last checksum character changed: well-formed, bad checksum."""
    return key[:-1] + ("A" if key[-1] != "A" else "B")


@dataclass
class Suite:
    cases: list[Case] = field(default_factory=list)
    skipped: dict[str, str] = field(default_factory=dict)  # case name -> why it did not run

    def add(self, case: Case) -> None:
        self.cases.append(case)

    def skip(self, names: list[str], why: str) -> None:
        self.skipped.update(dict.fromkeys(names, why))


async def _started(stack: contextlib.AsyncExitStack, app: Any) -> Any:
    await stack.enter_async_context(Lifespan(app))
    return app


async def build_suite(
    env: BenchEnv, stack: contextlib.AsyncExitStack, *, slow_rounds: int
) -> Suite:
    """Every case that can run with what is available; the rest are listed as skipped.
    Apps are started (lifespan) on `stack` and stopped when it closes."""
    suite = Suite()
    key = env.key_pg or env.key_sqlite
    suite.add(app_case("bare.starlette", LABELS["bare.starlette"], bare_starlette(), [], 200))
    bare_fa = await _started(stack, bare_fastapi())
    suite.add(app_case("bare.fastapi", LABELS["bare.fastapi"], bare_fa, [], 200))
    await _keyguard_cases(suite, env, stack, key)
    await _reference_cases(suite, env, stack)
    await _alternative_cases(suite, env, stack, slow_rounds)
    return suite


def _floor(hasher: KeyHasher, headers: Headers, known: bytes) -> Case:
    table = {known: object()}

    def floor() -> object:
        token = extract_key(headers)
        assert isinstance(token, str)
        return table.get(hasher.digest(token))

    return sync_case("floor", LABELS["floor"], floor, lambda found: found is not None)


async def _keyguard_cases(
    suite: Suite, env: BenchEnv, stack: contextlib.AsyncExitStack, key: str
) -> None:
    main_store = _main_store(env)
    hit = await _started(
        stack,
        keyguard_app(env, store=main_store, redis=env.redis_url is not None, local_ttl=LONG_TTL),
    )
    headers = http_scope(bearer(key))["headers"]  # the same list the request cases carry
    suite.add(_floor(hit.guard.hasher, headers, hit.guard.hasher.digest(key)))
    local = app_case("keyguard.local_hit", LABELS["keyguard.local_hit"], hit, bearer(key), 200)
    suite.add(expect_lookups(local, hit, store=0, shared=0))
    if env.redis_url and env.key_pg:
        redis_app = await _started(stack, keyguard_app(env, redis=True, local_ttl=0))
        name = "keyguard.redis_hit"
        case = app_case(name, LABELS[name], redis_app, bearer(key), 200)
        suite.add(expect_lookups(case, redis_app, store=0, shared=1))
        alone = await _started(stack, keyguard_app(env, redis=True, local_ttl=0))
        suite.add(_verify_alone(f"{name}.verify", alone, key, store=0, shared=1))
    else:
        suite.skip(["keyguard.redis_hit"], "needs Redis and PostgreSQL")
    await _store_hits(suite, env, stack)
    await _rejections(suite, env, stack, key)


async def _store_hits(suite: Suite, env: BenchEnv, stack: contextlib.AsyncExitStack) -> None:
    stores: tuple[tuple[Store, str], ...] = (("postgres", env.key_pg), ("sqlite", env.key_sqlite))
    for store, key in stores:
        name = f"keyguard.store_hit.{store}"
        if not key:
            suite.skip([name], f"needs {store}")
            continue
        app = await _started(stack, keyguard_app(env, store=store, redis=False, local_ttl=0))
        case = app_case(name, LABELS[name], app, bearer(key), 200)
        suite.add(expect_lookups(case, app, store=1, shared=0))
        if store == "postgres":
            alone = await _started(stack, keyguard_app(env, redis=False, local_ttl=0))
            suite.add(_verify_alone(f"{name}.verify", alone, key, store=1, shared=0))


def _verify_alone(name: str, app: APIKeyMiddleware, key: str, *, store: int, shared: int) -> Case:
    """The verifier's part of a lookup, from the key string to the record: what a request costs
    beyond the middleware's header handling and the app behind it."""
    verifier = app.verifier
    case = async_case(
        name, LABELS[name], lambda: verifier.verify(key), lambda r: isinstance(r, KeyRecord)
    )
    return expect_lookups(case, app, store=store, shared=shared)


async def _rejections(
    suite: Suite, env: BenchEnv, stack: contextlib.AsyncExitStack, key: str
) -> None:
    store = _main_store(env)
    app = await _started(
        stack, keyguard_app(env, store=store, redis=False, unlimited_failures=True)
    )
    bad = bearer(garbage_of(key))
    for name, headers in (("keyguard.garbage", bad), ("keyguard.missing", [])):
        case = app_case(name, LABELS[name], app, headers, 401)
        suite.add(expect_lookups(case, app, store=0, shared=0))
    suite.add(_decision("keyguard.garbage.decision", app, bad, Verdict.INVALID))
    suite.add(_decision("keyguard.missing.decision", app, [], CredentialProblem.MISSING))


def _decision(name: str, app: APIKeyMiddleware, headers: Headers, expected: object) -> Case:
    """What the middleware decides before it builds a response: read the header, check the
    format and checksum (no digest, no lookup for garbage)."""
    headers = http_scope(headers)["headers"]
    verifier = app.verifier

    def decide() -> object:
        token = extract_key(headers)
        return verifier.check_cached(token) if isinstance(token, str) else token

    return sync_case(name, LABELS[name], decide, lambda got: got is expected)


async def _reference_cases(suite: Suite, env: BenchEnv, stack: contextlib.AsyncExitStack) -> None:
    hasher = KeyHasher(env.pepper)
    if env.redis_url and env.key_pg:
        client = aioredis.Redis.from_url(env.redis_url, socket_timeout=0.25)
        stack.push_async_callback(client.aclose)
        # The entry keyguard.redis_hit reads (its check filled it): same key, same bytes.
        entry = f"{env.redis_prefix}key:{hasher.digest(env.key_pg).hex()}"
        get: Callable[[], Awaitable[object]] = lambda: client.get(entry)  # noqa: E731
        suite.add(
            async_case("ref.redis_get", LABELS["ref.redis_get"], get, lambda v: v is not None)
        )
    else:
        suite.skip(["ref.redis_get"], "needs Redis and PostgreSQL")
    if env.database_url and env.key_pg:
        conn = await asyncpg.connect(env.database_url, timeout=5)
        stack.push_async_callback(conn.close)
        stmt = await conn.prepare(f"SELECT {KEY_COLUMNS} FROM keyguard_keys WHERE digest = $1")
        digest = hasher.digest(env.key_pg)
        fetch: Callable[[], Awaitable[object]] = lambda: stmt.fetchrow(digest)  # noqa: E731
        case = async_case(
            "ref.asyncpg_fetch", LABELS["ref.asyncpg_fetch"], fetch, lambda r: r is not None
        )
        suite.add(case)
    else:
        suite.skip(["ref.asyncpg_fetch"], "needs PostgreSQL")


async def _alternative_cases(
    suite: Suite, env: BenchEnv, stack: contextlib.AsyncExitStack, slow_rounds: int
) -> None:
    names = ["alt.starlette_auth", "alt.base_http", "alt.fastapi_header"]
    if not (env.database_url and env.user_key):
        suite.skip([*names, "alt.keyshield", "alt.keyshield_nodelay"], "needs PostgreSQL")
        return
    user = env.user_key
    for name, app, headers in (
        ("alt.starlette_auth", alt.starlette_auth_app(env), bearer(user)),
        ("alt.base_http", alt.base_http_app(env), bearer(user)),
        ("alt.fastapi_header", alt.fastapi_header_app(env), [(b"x-api-key", user.encode())]),
    ):
        suite.add(app_case(name, LABELS[name], await _started(stack, app), headers, 200))
    problem = alt.keyshield_problem() or (None if env.keyshield_key else "no keyshield key")
    if problem is not None:
        suite.skip(["alt.keyshield", "alt.keyshield_nodelay"], problem)
        return
    for name, delay in (("alt.keyshield", True), ("alt.keyshield_nodelay", False)):
        app = await _started(stack, alt.keyshield_app(env, delay=delay))
        case = app_case(name, LABELS[name], app, bearer(env.keyshield_key), 200)
        case.max_rounds = slow_rounds  # ~0.1 s of Argon2 (+0.1-0.3 s of sleep) per request
        suite.add(case)
