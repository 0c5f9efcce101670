"""Redis cannot count (the link to it is cut), then can again: what a limited key gets depends
on `rate_limit_failure`, and authentication never loosens.

Each test runs its own `redis-server` behind a `FaultyLink` and an in-process guard. Fail open:
the key is counted in this process (its limit holds per process), never a 5xx; fail closed:
the limited key gets 503 while an unlimited key still passes and an invalid or revoked key is
still 401. Either way the outage is logged once, and its end once.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator

import pytest
import redis.asyncio as aioredis

from keyguard import Settings
from keyguard.services import UsageLimiting

from ._faults import HOST, FaultyLink
from ._servers import RedisServer
from ._support import PEPPER, InProcess
from ._usage import counters_key, limited_item
from .conftest import MakeGuard

OUTAGE = 2.6  # seconds: past the breaker's 2 s, so Redis is tried again while still cut
HEAL_WITHIN = 10.0
DOWN = "Redis cannot count usage limits"
UP = "Redis counts usage limits again"


@pytest.fixture
def link(redis_server: RedisServer) -> Iterator[FaultyLink]:
    link = FaultyLink(HOST, redis_server.port)
    try:
        yield link
    finally:
        link.close()


def _settings(pg_database_url: str, link: FaultyLink, prefix: str, failure: str) -> Settings:
    return Settings(
        database_url=pg_database_url,
        redis_url=f"redis://{link.url_host}/0",
        pepper=PEPPER,
        redis_prefix=prefix,
        rate_limit_failure=failure,
        # Above the 0.25 s default: a reply slowed by a CPU-starved machine must not open an
        # outage of its own before the test cuts the link (a cut link fails at once anyway).
        redis_timeout=2.0,
    )


@pytest.fixture
async def behind(redis_server: RedisServer) -> AsyncIterator[aioredis.Redis]:
    """A client of the throwaway Redis itself, not through the link."""
    client = redis_server.client()
    try:
        yield client
    finally:
        await client.aclose()


def _logged(caplog: pytest.LogCaptureFixture, text: str) -> list[str]:
    return [r.getMessage() for r in caplog.records if text in r.getMessage()]


def _one_outage(caplog: pytest.LogCaptureFixture, usage: UsageLimiting, choice: str) -> None:
    """Logged once with the setting's choice, counted once; and Redis was tried again during
    it (the breaker half-opened), so "once" is not just "tried once"."""
    assert usage.breaker._failures >= 2, "Redis was not tried again during the outage"
    (warning,) = _logged(caplog, DOWN)
    assert choice in warning
    assert usage.outages == 1


async def _throughout(seconds: float, step: Callable[[], Awaitable[None]]) -> int:
    """Run `step` again and again for `seconds`; how many times it ran."""
    until, runs = time.monotonic() + seconds, 0
    while time.monotonic() < until:
        await step()
        runs += 1
        await asyncio.sleep(0.02)
    return runs


async def _until_status(guarded: InProcess, value: str, wanted: int, meanwhile: int) -> None:
    """Poll until the key gets `wanted`; every answer before must be `meanwhile`."""
    deadline = time.monotonic() + HEAL_WITHIN
    while (status := await guarded.status(value)) != wanted:
        assert status == meanwhile, status
        assert time.monotonic() < deadline, f"still {status} {HEAL_WITHIN} s after healing"
        await asyncio.sleep(0.05)


async def _tat(client: aioredis.Redis, prefix: str, key_id: str) -> bytes:
    tat = await client.hget(counters_key(prefix, key_id), "5/m")
    assert isinstance(tat, bytes)
    return tat


async def test_fail_open_counts_in_this_process_while_redis_is_cut(
    link: FaultyLink,
    behind: aioredis.Redis,
    pg_database_url: str,
    redis_prefix: str,
    make_guard: MakeGuard,
    account: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    guarded = await make_guard(_settings(pg_database_url, link, redis_prefix, "open"))
    usage = guarded.guard.usage
    key = await guarded.guard.manager.create(
        account=account, name="open", environment="live", access="secret", rate_limits=["5/m"]
    )
    assert [await guarded.status(key.value) for _ in range(2)] == [200, 200]
    before = await _tat(behind, redis_prefix, key.record.id)

    link.cut()
    statuses: list[int] = []

    async def use() -> None:
        statuses.append(await guarded.status(key.value))

    runs = await _throughout(OUTAGE, use)
    # This process's own count starts fresh: the key's 5, then refused; never 5xx or 401.
    assert statuses == [200] * 5 + [429] * (runs - 5)
    _one_outage(caplog, usage, "fail open")
    assert usage.counted_here == runs
    assert await _tat(behind, redis_prefix, key.record.id) == before  # nothing reached Redis

    link.restore()
    # Spent here, not in Redis (2 of 5 used there): the first 200 is Redis counting again.
    await _until_status(guarded, key.value, 200, meanwhile=429)
    assert len(_logged(caplog, UP)) == 1 and usage.outages == 1
    assert await _tat(behind, redis_prefix, key.record.id) > before
    counted_here = usage.counted_here  # and the polling's 429s, counted here too
    response = await guarded.ping(key.value)
    assert response.status_code == 200 and limited_item(response)[0] == "5/m"
    assert usage.counted_here == counted_here


async def test_fail_closed_refuses_limited_keys_only_while_redis_is_cut(
    link: FaultyLink,
    pg_database_url: str,
    redis_prefix: str,
    make_guard: MakeGuard,
    account: str,
    caplog: pytest.LogCaptureFixture,
) -> None:
    guarded = await make_guard(_settings(pg_database_url, link, redis_prefix, "closed"))
    manager, usage = guarded.guard.manager, guarded.guard.usage
    limited, unlimited, revoked = [
        await manager.create(
            account=account, name=name, environment="live", access="secret", rate_limits=limits
        )
        for name, limits in (("limited", ["5/m"]), ("unlimited", None), ("revoked", ["5/m"]))
    ]
    await manager.revoke(revoked.record.id)
    # Always, Redis or not: the unlimited key passes, a mistyped key and a revoked one do not.
    mistyped = limited.value[:-1] + ("y" if limited.value.endswith("x") else "x")
    expected = {unlimited.value: 200, mistyped: 401, revoked.value: 401, limited.value: 200}

    async def check(limited_gets: int) -> None:
        for value, status in {**expected, limited.value: limited_gets}.items():
            response = await guarded.ping(value)
            assert response.status_code == status, response.text
            if status == 503:
                assert response.json()["error"]["code"] == "SERVICE_UNAVAILABLE"

    await check(200)
    link.cut()
    runs = await _throughout(OUTAGE, lambda: check(503))
    _one_outage(caplog, usage, "fail closed")
    assert (usage.refused_unavailable, usage.counted_here) == (runs, 0)

    link.restore()
    await _until_status(guarded, limited.value, 200, meanwhile=503)
    assert len(_logged(caplog, UP)) == 1
    await check(200)
