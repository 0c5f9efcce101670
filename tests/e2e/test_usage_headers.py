"""The RateLimit header fields over real HTTP, on answers and refusals, from two uvicorn
processes counting in one Redis: `RateLimit-Policy` lists every limit of the key and its quota,
`RateLimit` names the one closest to exhaustion; an unlimited key's answers carry none."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator

import httpx
import pytest

from keyguard import KeyGuard, Settings

from ._asgi import PING
from ._servers import UvicornServer
from ._support import auth
from ._usage import counted_in_redis, error_of, limit_fields, limited_item, shared_env, two_servers

Servers = tuple[UvicornServer, UvicornServer]


@pytest.fixture(scope="module")
def servers(
    pg_database_url: str,
    redis_url: str,
    redis_prefix: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[Servers]:
    env = shared_env(pg_database_url, redis_url, redis_prefix)
    yield from two_servers(env, tmp_path_factory.mktemp("uvicorn-headers"), None, None)


@pytest.fixture
async def minter(settings: Settings) -> AsyncIterator[KeyGuard]:
    async with KeyGuard(settings) as guard:
        yield guard


@pytest.fixture
async def client() -> AsyncIterator[httpx.AsyncClient]:
    async with httpx.AsyncClient(trust_env=False, timeout=10.0) as client:
        yield client


async def _in_turn(
    client: httpx.AsyncClient, servers: Servers, value: str, count: int
) -> list[httpx.Response]:
    """One request after another, alternating between the servers."""
    return [await client.get(servers[i % 2].url + PING, headers=auth(value)) for i in range(count)]


async def test_the_closest_rate_limit_is_reported_until_it_refuses(
    servers: Servers, minter: KeyGuard, client: httpx.AsyncClient, account: str
) -> None:
    key = await minter.manager.create(
        account=account,
        name="rated",
        environment="live",
        access="secret",
        rate_limits=["3/m", {"limit": "1000/h", "name": "hourly"}],
        quota={"remaining": 50, "refillAmount": 50, "refillInterval": "1d"},
    )
    first, second, third, refused = await _in_turn(client, servers, key.value, 4)
    counted_in_redis(servers)
    policy = '"3/m";q=3;w=60, "hourly";q=1000;w=3600, "quota";q=50;w=86400'
    for left, response in zip((2, 1, 0), (first, second, third), strict=True):
        assert response.status_code == 200, response.text
        assert set(limit_fields(response)) == {"ratelimit-policy", "ratelimit"}
        assert response.headers["ratelimit-policy"] == policy
        name, remaining, t = limited_item(response)
        # One unit of 3/m comes back every 20 s: at most 20 s until r grows.
        assert (name, remaining) == ("3/m", left) and t is not None and 1 <= t <= 20

    assert refused.status_code == 429
    code, message = error_of(refused)
    assert code == "RATE_LIMITED" and "rate limit" in message and "quota" not in message
    assert refused.headers["ratelimit-policy"] == policy
    name, remaining, t = limited_item(refused)
    assert (name, remaining) == ("3/m", 0) and t is not None
    assert 1 <= t <= int(refused.headers["retry-after"]) <= 20


async def test_a_quota_closest_to_exhaustion_is_reported_and_refuses_without_retry_after(
    servers: Servers, minter: KeyGuard, client: httpx.AsyncClient, account: str
) -> None:
    key = await minter.manager.create(
        account=account,
        name="allowance",
        environment="live",
        access="secret",
        rate_limits=["100/s"],
        quota={"remaining": 2},
    )
    responses = await _in_turn(client, servers, key.value, 4)
    counted_in_redis(servers)
    assert [r.status_code for r in responses] == [200, 200, 429, 429]
    for response in responses:
        assert response.headers["ratelimit-policy"] == '"100/s";q=100;w=1, "quota";q=2'
        assert "retry-after" not in response.headers  # no refill: no wait would help
    # No refill: the quota's item has no t.
    assert [limited_item(r) for r in responses] == [("quota", left, None) for left in (1, 0, 0, 0)]
    for response in responses[2:]:
        code, message = error_of(response)
        assert code == "RATE_LIMITED" and "quota is spent" in message


async def test_an_unlimited_key_gets_no_ratelimit_fields(
    servers: Servers, minter: KeyGuard, client: httpx.AsyncClient, account: str
) -> None:
    key = await minter.manager.create(
        account=account, name="free", environment="live", access="secret"
    )
    for response in await _in_turn(client, servers, key.value, 4):
        assert response.status_code == 200, response.text
        assert limit_fields(response) == {}
    invalid = await client.get(servers[0].url + PING, headers=auth(key.value + "x"))
    assert invalid.status_code == 401
    assert limit_fields(invalid) == {}
