"""The in-process cases: which app or call, which key, and what answer proves the case is what
its name says. Kept apart from the harness so the list of what is compared reads in one place.
"""

from __future__ import annotations

import contextlib
import functools
from typing import TypeVar

import asyncpg
import redis.asyncio as aioredis
from starlette.applications import Starlette

from keyguard import APIKeyMiddleware, KeyHasher, KeyRecord
from keyguard.adapters._redis import entry_key
from keyguard.adapters._sql_shapes import KEY_COLUMNS  # the very query keyguard's store runs
from keyguard.core import CredentialProblem, extract_key
from keyguard.services import Verdict

from . import alternatives as alt
from .apps import LONG_TTL, bare_starlette, keyguard_app
from .environment import BenchEnv
from .inprocess import Case, Headers, app_case, call_case, expect_lookups, http_scope, respond
from .limited import Commands, counted, reference
from .observed import metered, metrics, traced
from .restricted import ELSEWHERE, FOREIGN_ORIGIN, ORIGIN

__all__ = ["ALTERNATIVES", "LABELS", "auth_header", "build"]

LABELS = {
    "bare.starlette": "bare Starlette app (baseline)",
    "floor": "floor: extract_key + keyed BLAKE3 + dict lookup",
    "keyguard.local_hit": "keyguard, local-cache hit",
    "keyguard.local_hit.metrics": "  local-cache hit, metrics on (issue 15)",
    "keyguard.local_hit.traced": "  local-cache hit, metrics + tracing on (no exporter)",
    "keyguard.local_hit.restricted_secret": "  restricted secret key: 5 permissions, 10 networks",
    "keyguard.local_hit.publishable": "keyguard, local-cache hit, publishable key + Origin",
    "keyguard.local_hit.restricted_publishable": (
        "  restricted publishable key: 4 permissions, 10 origins"
    ),
    "keyguard.local_hit.rate_limited": "  rate-limited secret key (1 limit): one EVALSHA",
    "keyguard.local_hit.quota": "  rate limit + quota: one EVALSHA",
    "keyguard.redis_hit": "keyguard, Redis hit (local cache off)",
    "keyguard.redis_hit.metrics": "  Redis hit, metrics on (issue 15)",
    "keyguard.redis_hit.verify": "  Redis hit: verifier.verify(key) alone (no middleware, app)",
    "keyguard.store_hit": "keyguard, Postgres hit (no Redis, no local cache)",
    "keyguard.store_hit.verify": "  Postgres hit: verifier.verify(key) alone",
    "keyguard.garbage": "keyguard, garbage key (bad checksum) -> 401",
    "keyguard.garbage.decision": "  garbage: decision only (no response sent)",
    "keyguard.missing": "keyguard, no key -> 401",
    "keyguard.missing.decision": "  no key: decision only (no response sent)",
    "ref.redis_get": "bare redis-py GET of the same entry",
    "ref.asyncpg_fetch": "bare asyncpg prepared fetchrow of the same row",
    "ref.evalsha.rate_limited": "bare redis-py EVALSHA of the rate-limited key's script call",
    "ref.evalsha.quota": "bare redis-py EVALSHA of the rate + quota key's script call",
    "alt.starlette_auth": "Starlette AuthenticationMiddleware + asyncpg lookup",
    "alt.base_http": "BaseHTTPMiddleware + asyncpg lookup",
    "alt.fastapi_header": "FastAPI APIKeyHeader dependency + asyncpg lookup",
    "keyguard": "keyguard (Postgres + Redis, default 1 s local cache)",
}
ALTERNATIVES = {
    "alt.starlette_auth": alt.starlette_auth_app,
    "alt.base_http": alt.base_http_app,
    "alt.fastapi_header": alt.fastapi_header_app,
}
App = TypeVar("App", APIKeyMiddleware, Starlette)


def auth_header(env: BenchEnv, name: str) -> tuple[str, str]:
    """The header app `name` reads its key from, as its users send it."""
    if name == "alt.fastapi_header":
        return "x-api-key", env.user_key
    return "authorization", f"Bearer {env.user_key if name.startswith('alt.') else env.key}"


def _bearer(key: str) -> Headers:
    return [(b"authorization", f"Bearer {key}".encode())]


async def _started(stack: contextlib.AsyncExitStack, app: App) -> App:
    """Start what `app` starts in its lifespan (keyguard, the alternatives' asyncpg pools), as
    uvicorn would; it is stopped when `stack` closes."""
    if isinstance(app, APIKeyMiddleware):
        await stack.enter_async_context(app.guard)
    else:
        await stack.enter_async_context(app.router.lifespan_context(app))
    return app


async def build(env: BenchEnv, stack: contextlib.AsyncExitStack) -> list[Case]:
    """Every case, in the order they are checked (the Redis entry the bare GET reads is filled by
    keyguard's Redis-hit check); apps are started on `stack` and stopped when it closes."""
    cases = [app_case("bare.starlette", bare_starlette(), [], 200)]
    cases += await _hits(env, stack)
    cases += await _rejections(env, stack)
    cases += await _references(env, stack)
    for name, make in ALTERNATIVES.items():
        field, value = auth_header(env, name)
        app = await _started(stack, make(env))
        cases.append(app_case(name, app, [(field.encode(), value.encode())], 200))
    return cases


def _floor(app: APIKeyMiddleware, key: str) -> Case:
    """The least any lookup can do: read the header, digest the key, look the digest up."""
    hasher = app.guard.hasher
    headers = http_scope(_bearer(key))["headers"]
    table = {hasher.digest(key): object()}

    def floor() -> object:
        token = extract_key(headers)
        assert isinstance(token, str)
        return table.get(hasher.digest(token))

    return call_case("floor", floor, lambda found: found is not None, awaited=False)


async def _hits(env: BenchEnv, stack: contextlib.AsyncExitStack) -> list[Case]:
    local = await _started(stack, keyguard_app(env, local_ttl=LONG_TTL, routes=True))
    hit = app_case("keyguard.local_hit", local, _bearer(env.key), 200)
    hit = counted(hit, local, _bearer(env.key), evalsha=False, commands=[])
    cases = [_floor(local, env.key), expect_lookups(hit, local, store=0, shared=0)]
    for tracing in (False, True):
        plain = "keyguard.local_hit"
        cases.append(await _metered(env, stack, plain, local, local_ttl=LONG_TTL, tracing=tracing))
    cases += await _restricted_hits(env, stack)
    cases += await _limited_hits(env, stack)
    for name, redis, store, shared in (
        ("keyguard.redis_hit", True, 0, 1),
        ("keyguard.store_hit", False, 1, 0),
    ):
        app = await _started(stack, keyguard_app(env, redis=redis, local_ttl=0))
        case = app_case(name, app, _bearer(env.key), 200)
        cases.append(expect_lookups(case, app, store=store, shared=shared))
        if redis:
            cases.append(await _metered(env, stack, name, app, local_ttl=0))
        # A second app, so that each case's lookup counters count only its own requests.
        alone = await _started(stack, keyguard_app(env, redis=redis, local_ttl=0))
        verify = functools.partial(alone.verifier.verify, env.key)
        case = call_case(f"{name}.verify", verify, lambda r: isinstance(r, KeyRecord), awaited=True)
        cases.append(expect_lookups(case, alone, store=store, shared=shared))
    return cases


async def _metered(
    env: BenchEnv,
    stack: contextlib.AsyncExitStack,
    plain_name: str,
    plain: APIKeyMiddleware,
    *,
    local_ttl: float,
    tracing: bool = False,
) -> Case:
    """Issue 15: the plain hit `plain_name` again, on an app configured as its `plain` one's
    but with a metrics observer (and, with `tracing`, a tracing one beside it); proved on by
    a scrape and a count of spans (`observed.metered`)."""
    counter = metrics()
    observer, spans = traced(counter) if tracing else (counter, None)
    routes = local_ttl > 0  # the plain local hit's app has the route table, the Redis hit's not
    app = keyguard_app(env, local_ttl=local_ttl, routes=routes, observer=observer)
    app = await _started(stack, app)
    name = f"{plain_name}.{'traced' if tracing else 'metrics'}"
    case = app_case(name, app, _bearer(env.key), 200)
    case = expect_lookups(case, app, store=0, shared=0 if local_ttl > 0 else 1)
    return metered(case, app, plain, _bearer(env.key), counter, spans)


async def _restricted_hits(env: BenchEnv, stack: contextlib.AsyncExitStack) -> list[Case]:
    """Issue 13's local-cache hits, each on an app configured as the plain hit's (same route
    table, same publishable route): a restricted key beside the unrestricted key of its access
    type. Both publishable requests carry the same Origin, so CORS costs the same on both sides.
    Each restricted key is also checked to be refused from a place outside its list."""
    origin = [(b"origin", ORIGIN.encode())]
    cors = [(b"access-control-allow-origin", ORIGIN.encode())]
    foreign = [(b"origin", FOREIGN_ORIGIN.encode())]
    elsewhere = {"client": ELSEWHERE}
    cases = []
    for name, key, extra, sends, refused in (
        ("restricted_secret", env.restricted_key, [], [], ([], elsewhere)),
        ("publishable", env.publishable_key, origin, cors, None),
        ("restricted_publishable", env.restricted_publishable_key, origin, cors, (foreign, {})),
    ):
        app = await _started(stack, keyguard_app(env, local_ttl=LONG_TTL, routes=True))
        case = app_case(
            f"keyguard.local_hit.{name}", app, [*_bearer(key), *extra], 200, sends=sends
        )
        if refused is not None:
            headers, changes = refused
            case = _refused_elsewhere(
                case, app, {**http_scope([*_bearer(key), *headers]), **changes}
            )
        cases.append(expect_lookups(case, app, store=0, shared=0))
    return cases


async def _limited_hits(env: BenchEnv, stack: contextlib.AsyncExitStack) -> list[Case]:
    """Issue 14's local-cache hits, each on an app configured as the plain hit's, then its bare
    EVALSHA reference (the very command it was seen to send, on its own client)."""
    cases = []
    for name, key in (("rate_limited", env.limited_key), ("quota", env.quota_key)):
        app = await _started(stack, keyguard_app(env, local_ttl=LONG_TTL, routes=True))
        sent: Commands = []
        case = app_case(f"keyguard.local_hit.{name}", app, _bearer(key), 200)
        case = counted(case, app, _bearer(key), evalsha=True, commands=sent)
        cases.append(expect_lookups(case, app, store=0, shared=0))
        cases.append(reference(f"ref.evalsha.{name}", app, sent))
    return cases


def _refused_elsewhere(case: Case, app: APIKeyMiddleware, scope: dict[str, object]) -> Case:
    """Make `case` also prove its key is restricted: `scope`, from outside its list, is 403."""
    checked = case.check

    async def check() -> None:
        await checked()
        seen, _ = await respond(app, scope)
        if seen != [403]:
            raise RuntimeError(f"{case.name}: from outside its list, expected 403, got {seen}")
        await app.guard.refusal_log.drain()  # its audit row is written before the timing starts

    case.check = check
    return case


async def _rejections(env: BenchEnv, stack: contextlib.AsyncExitStack) -> list[Case]:
    app = await _started(stack, keyguard_app(env, redis=False, limit=False))
    # The key with its last checksum character changed: well-formed, bad checksum.
    garbage = env.key[:-1] + ("A" if env.key[-1] != "A" else "B")
    cases = []
    for name, headers, expected in (
        ("keyguard.garbage", _bearer(garbage), Verdict.INVALID),
        ("keyguard.missing", [], CredentialProblem.MISSING),
    ):
        cases.append(expect_lookups(app_case(name, app, headers, 401), app, store=0, shared=0))
        cases.append(_decision(f"{name}.decision", app, headers, expected))
    return cases


def _decision(name: str, app: APIKeyMiddleware, headers: Headers, expected: object) -> Case:
    """What the middleware decides before it builds a response: read the header, check the
    format and checksum (no digest, no lookup for garbage)."""
    raw = http_scope(headers)["headers"]
    verifier = app.verifier

    def decide() -> object:
        token = extract_key(raw)
        return verifier.check_cached(token) if isinstance(token, str) else token

    return call_case(name, decide, lambda got: got is expected, awaited=False)


async def _references(env: BenchEnv, stack: contextlib.AsyncExitStack) -> list[Case]:
    """The same Redis entry and Postgres row keyguard's hits read, by bare clients: what an
    authentication that added nothing to the I/O would cost."""
    digest = KeyHasher(env.pepper).digest(env.key)
    client = aioredis.Redis.from_url(env.redis_url, socket_timeout=0.25)
    stack.push_async_callback(client.aclose)
    conn = await asyncpg.connect(env.database_url, timeout=5)
    stack.push_async_callback(conn.close)
    stmt = await conn.prepare(f"SELECT {KEY_COLUMNS} FROM keyguard_keys WHERE digest = $1")
    get = functools.partial(client.get, entry_key(env.redis_prefix, digest))
    fetch = functools.partial(stmt.fetchrow, digest)
    return [
        call_case("ref.redis_get", get, lambda value: value is not None, awaited=True),
        call_case("ref.asyncpg_fetch", fetch, lambda row: row is not None, awaited=True),
    ]
