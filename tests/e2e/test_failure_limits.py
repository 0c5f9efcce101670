"""The failed-attempt limit, with the default limiter of a guard that has Redis: guessing
cannot outrun it under concurrency, every process counts one address together, and a client
over its limit is refused lookups, never a key a cache vouches for."""

from __future__ import annotations

import asyncio
import secrets
from collections import Counter
from dataclasses import replace

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from keyguard import Access, KeyGuard, Settings
from keyguard.adapters import RedisFailureLimiter, RedisKeyCache
from keyguard.web import APIKeyMiddleware

from ._support import auth, count_calls
from .conftest import MakeGuard

LIMIT = 20  # the default: 20 failures a minute per client address
FIVE_SECONDS_INTO_A_WINDOW = 1_800_000_005.0


async def _ping(request: Request) -> JSONResponse:
    return JSONResponse({"id": request.state.api_key.id})


def _frozen_limiter(guard: KeyGuard) -> RedisFailureLimiter:
    """The guard's own kind of limiter (shared through its Redis), on a clock stopped five
    seconds into a window: no window turns mid-test, so the counts are exact."""
    assert isinstance(guard.shared_cache, RedisKeyCache)
    return RedisFailureLimiter(
        guard.shared_cache.client,
        prefix=guard.settings.redis_prefix,
        clock=lambda: FIVE_SECONDS_INTO_A_WINDOW,
        gate=guard.shared_cache.gate,
    )


def _client(guard: KeyGuard) -> httpx.AsyncClient:
    """Every request from 127.0.0.1, through the middleware, counted by a frozen limiter."""
    app = APIKeyMiddleware(
        Starlette(routes=[Route("/ping", _ping)]),
        guard=guard,
        failure_limiter=_frozen_limiter(guard),
    )
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 40000))
    return httpx.AsyncClient(transport=transport, base_url="http://limits")


@pytest.fixture
def own_prefix(settings: Settings) -> Settings:
    """This test's own Redis prefix: its failure counts are its own."""
    return replace(settings, redis_prefix=f"{settings.redis_prefix}{secrets.token_hex(4)}:")


def _unknown(guard: KeyGuard, n: int) -> list[str]:
    return [guard.key_format.generate(Access.SECRET, "live") for _ in range(n)]


async def test_concurrent_guesses_make_at_most_the_limits_lookups(
    own_prefix: Settings, make_guard: MakeGuard, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Finding 6: 300 concurrent well-formed unknown keys from one address. Each lookup takes
    a failure slot before it asks the store, so at most LIMIT reach it."""
    guard = (await make_guard(own_prefix)).guard
    assert isinstance(guard.failure_limiter, RedisFailureLimiter)  # what the app gets by default
    lookups = count_calls(monkeypatch, guard.store, "find_by_digest")
    async with _client(guard) as client:
        responses = await asyncio.gather(
            *(client.get("/ping", headers=auth(k)) for k in _unknown(guard, 300))
        )
    statuses = Counter(r.status_code for r in responses)
    assert set(statuses) <= {401, 429}, statuses
    assert lookups.count <= LIMIT, f"{lookups.count} store lookups for {statuses}"
    assert statuses[401] <= LIMIT
    assert all(int(r.headers["retry-after"]) >= 1 for r in responses if r.status_code == 429)


async def test_a_valid_key_a_cache_vouches_for_works_from_a_busy_address(
    own_prefix: Settings, make_guard: MakeGuard, account: str
) -> None:
    """Finding 7: after one client's failures, another client behind the same address (an
    office NAT, a proxy) still gets in with a key Redis holds, in this process and in every
    other; only lookups that would reach the store are refused, and in every process."""
    here = (await make_guard(own_prefix)).guard
    there = (await make_guard(own_prefix)).guard  # another process: same Redis, own caches
    key = await here.manager.create(account=account, name="k", environment="live", access="secret")
    async with _client(here) as near, _client(there) as far:
        assert (await near.get("/ping", headers=auth(key.value))).status_code == 200  # in Redis
        statuses = [
            (await near.get("/ping", headers=auth(k))).status_code for k in _unknown(here, LIMIT)
        ]
        assert statuses == [401] * LIMIT
        assert (await near.get("/ping", headers=auth(_unknown(here, 1)[0]))).status_code == 429
        # The other process counts the same address together with this one.
        assert (await far.get("/ping", headers=auth(_unknown(here, 1)[0]))).status_code == 429

        for guard, client in ((here, near), (there, far)):
            guard.verifier.local.clear()  # not in this process's cache: Redis vouches for it
            lookups = guard.verifier.store_lookups
            response = await client.get("/ping", headers=auth(key.value))
            assert response.status_code == 200, response.text
            assert guard.verifier.store_lookups == lookups  # Redis answered, not the store


async def test_the_limit_falls_back_to_this_process_when_redis_is_down(
    settings: Settings, make_guard: MakeGuard, caplog: pytest.LogCaptureFixture
) -> None:
    dead = replace(settings, redis_url="redis://127.0.0.1:1/0", redis_timeout=0.1)
    guard = (await make_guard(dead)).guard
    async with _client(guard) as client:
        statuses = [
            (await client.get("/ping", headers=auth(k))).status_code
            for k in _unknown(guard, LIMIT + 1)
        ]
    assert statuses == [401] * LIMIT + [429]  # still limited, in this process
    said = [r.getMessage() for r in caplog.records if "counted in this process" in r.getMessage()]
    assert len(said) == 1, said  # once per outage, not once per request
