"""A key's rate limit and quota hold across processes: two uvicorn processes share one
PostgreSQL database and one Redis (under this run's prefix), and count every request of a key
in the same place.

This process mints and revokes keys through its own `KeyGuard` (same database, Redis, pepper
and prefix) and reads the counters straight from Redis.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
import redis.asyncio as aioredis

from keyguard import KeyGuard, Settings

from ._asgi import PING
from ._servers import UvicornServer
from ._support import auth
from ._usage import counted_in_redis, counters_key, error_of, limited_item, shared_env, two_servers

Servers = tuple[UvicornServer, UvicornServer]
RETRY_BOUND = 10  # seconds: the longest Retry-After these tests will wait out


@pytest.fixture(scope="module")
def servers(
    pg_database_url: str,
    redis_url: str,
    redis_prefix: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Servers]:
    env = shared_env(pg_database_url, redis_url, redis_prefix)
    logs = tmp_path_factory.mktemp("uvicorn-usage")
    yield from two_servers(env, logs, redis_prefix + "changes", redis_url)


@pytest.fixture
async def minter(settings: Settings) -> AsyncIterator[KeyGuard]:
    """This process's guard: it mints and revokes the keys the servers see."""
    async with KeyGuard(settings) as guard:
        yield guard


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    limits = httpx.Limits(max_connections=250, max_keepalive_connections=250)
    async with httpx.AsyncClient(trust_env=False, timeout=10.0, limits=limits) as client:
        yield client


async def _fire(
    client: httpx.AsyncClient, servers: Servers, value: str, count: int
) -> tuple[list[httpx.Response], float]:
    """`count` requests at once, alternating between the servers: the answers, and the ms
    from the first request sent to the last answer received (every decision lies within)."""
    started = time.perf_counter()
    responses = await asyncio.gather(
        *(client.get(servers[i % 2].url + PING, headers=auth(value)) for i in range(count))
    )
    return list(responses), (time.perf_counter() - started) * 1000


async def test_a_rate_limit_holds_across_two_processes(
    servers: Servers, minter: KeyGuard, client: httpx.AsyncClient, account: str
) -> None:
    key = await minter.manager.create(
        account=account, name="burst", environment="test", access="secret", rate_limits=["20/10s"]
    )
    responses, span_ms = await _fire(client, servers, key.value, 80)
    # Redis stamps each decision in whole ms: decisions `span_ms` apart are at most its
    # ceiling apart there. GCRA's bound over any interval D: N + floor(D * N / W).
    bound = 20 + math.floor(math.ceil(span_ms) * 20 / 10_000)
    # Two processes counting apart would admit 40 (20 each) before any refill.
    assert bound < 40, f"80 requests took {span_ms:.0f} ms: too slow to tell one count"
    statuses = [r.status_code for r in responses]
    assert set(statuses) <= {200, 429}, statuses
    admitted = statuses.count(200)
    print(f"\n80 requests over {span_ms:.1f} ms on two processes: {admitted} admitted")
    counted_in_redis(servers)
    assert 20 <= admitted <= bound, (admitted, bound, span_ms)
    policy = '"20/10s";q=20;w=10'
    for response in responses:
        assert response.headers["ratelimit-policy"] == policy
        name, _, t = limited_item(response)
        assert name == "20/10s" and t is not None
        if response.status_code == 200:
            assert response.json() == {"id": key.record.id}
            assert "retry-after" not in response.headers
    waits = [_refusal_wait(r) for r in responses if r.status_code == 429]
    assert waits, "nothing was refused"

    await asyncio.sleep(max(waits))  # what the refusals said to wait: then it passes again
    response = await client.get(servers[0].url + PING, headers=auth(key.value))
    assert response.status_code == 200, response.text
    assert limited_item(response)[0] == "20/10s"


def _refusal_wait(response: httpx.Response) -> int:
    """A rate refusal's Retry-After, after checking it is the documented 429."""
    code, message = error_of(response)
    assert code == "RATE_LIMITED"
    assert "rate limit" in message and "quota is spent" not in message
    name, remaining, t = limited_item(response)
    assert (name, remaining) == ("20/10s", 0)
    wait = int(response.headers["retry-after"])
    assert t is not None and 1 <= t <= wait <= RETRY_BOUND, (t, wait)
    return wait


async def test_a_quota_decrements_exactly_under_200_concurrent_requests(
    servers: Servers,
    minter: KeyGuard,
    client: httpx.AsyncClient,
    redis_client: aioredis.Redis,
    redis_prefix: str,
    account: str,
) -> None:
    key = await minter.manager.create(
        account=account,
        name="quota",
        environment="live",
        access="secret",
        rate_limits=[],
        quota={"remaining": 150},
    )
    responses, span_ms = await _fire(client, servers, key.value, 200)
    statuses = [r.status_code for r in responses]
    print(f"\n200 requests at once on two processes, quota 150: {span_ms:.1f} ms")
    counted_in_redis(servers)
    assert (statuses.count(200), statuses.count(429)) == (150, 50), sorted(set(statuses))
    admitted = [r for r in responses if r.status_code == 200]
    # Each admitted request saw its own count: every value from 149 down to 0, once.
    assert sorted(limited_item(r)[1] for r in admitted) == list(range(150))
    for response in responses:
        assert response.headers["ratelimit-policy"] == '"quota";q=150'
        assert "retry-after" not in response.headers  # no refill: waiting does not help
        assert limited_item(response)[0] == "quota"
    for response in (r for r in responses if r.status_code == 429):
        code, message = error_of(response)
        assert code == "RATE_LIMITED" and "quota is spent" in message
        assert limited_item(response) == ("quota", 0, None)
    stored = await redis_client.hgetall(counters_key(redis_prefix, key.record.id))
    assert set(stored) == {b"q"}, stored  # no rate limit: no TAT field
    count = stored[b"q"]
    assert isinstance(count, bytes)
    set_at, left, _ = count.split(b":")
    assert key.record.quota is not None
    assert (int(set_at), int(left)) == (key.record.quota.set_at_ms, 0)


async def test_a_revoked_keys_counters_are_dropped(
    servers: Servers,
    minter: KeyGuard,
    client: httpx.AsyncClient,
    redis_client: aioredis.Redis,
    redis_prefix: str,
    account: str,
) -> None:
    key = await minter.manager.create(
        account=account,
        name="dropped",
        environment="live",
        access="secret",
        rate_limits=["5/m"],
        quota={"remaining": 100},
    )
    counters = counters_key(redis_prefix, key.record.id)
    for server in servers:
        response = await client.get(server.url + PING, headers=auth(key.value))
        assert response.status_code == 200, response.text
    assert set(await redis_client.hgetall(counters)) == {b"5/m", b"q"}

    await minter.manager.revoke(key.record.id, account=account)
    assert not await redis_client.exists(counters)
    for server in servers:
        assert await _refused_soon(client, server, key.value) == 401
    assert not await redis_client.exists(counters), "a process counted the revoked key again"


async def _refused_soon(client: httpx.AsyncClient, server: UvicornServer, value: str) -> int:
    """Poll until the server refuses the key (within its promised second, plus slack)."""
    deadline = time.monotonic() + 3
    while (status := (await client.get(server.url + PING, headers=auth(value))).status_code) == 200:
        assert time.monotonic() < deadline, f"{server.name} still accepts the revoked key"
        await asyncio.sleep(0.005)
    return status
