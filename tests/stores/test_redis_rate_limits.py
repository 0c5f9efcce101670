"""The Redis rate limiter against the real Redis: its script decides and stores exactly as
`gcra()` (itself judged by exact token buckets in tests/core/test_gcra.py); it holds under
concurrency; and Redis failing is only ever `CacheUnavailableError`."""

from __future__ import annotations

import asyncio
import contextlib
import itertools
import secrets
import shutil
import socket
import subprocess
import time
from collections.abc import Iterator

import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyguard.adapters import RedisKeyCache, RedisRateLimiter
from keyguard.adapters._redis import RedisClient
from keyguard.core import CacheUnavailableError, RateLimit, gcra, parse_rate_limit

# The largest count a day allows while lcm(N, W) stays <= 2^53, coprime to the window: every
# value the script handles for it is a 16-digit double, where any rounding would show.
WIDEST = RateLimit(104_249_989, 86_400_000, "widest")
TIMEOUT = 0.25


@st.composite
def limits_to_check(draw: st.DrawFn) -> RateLimit:
    # Small counts and windows so streams reach the limits; odd pairs so ticks are not ms.
    count = draw(st.integers(1, 12) | st.sampled_from([7, 60, 97, 1000, 99_991]))
    window_ms = 1000 * draw(st.integers(1, 30) | st.sampled_from([7, 60, 3600, 86_400]))
    return RateLimit(count, window_ms, "x")


limit_sets = st.lists(limits_to_check() | st.just(WIDEST), min_size=1, max_size=4)
# (gap since the previous request in ms, cost); many gaps are 0: bursts at one instant.
streams = st.lists(
    st.tuples(st.integers(0, 3000) | st.just(0), st.integers(0, 3)), min_size=1, max_size=40
)
starts = st.integers(0, 2 * 10**12)


async def stored_tats(
    limiter: RedisRateLimiter, key_id: str, limits: list[RateLimit]
) -> tuple[int | None, ...]:
    """The TATs in the hash, back as the core's integers (None: no field)."""
    # redis-py's stubs say str; without decode_responses it returns bytes.
    fields: dict[bytes, bytes] = await limiter.client.hgetall(limiter.state_key(key_id))  # type: ignore[assignment]
    tats: list[int | None] = []
    for limit in limits:
        raw = fields.get(limit.text.encode())
        if raw is None:
            tats.append(None)
            continue
        ms, ticks = (int(part) for part in raw.split(b":"))
        assert 0 <= ticks < limit.ticks_per_ms
        tats.append(ms * limit.ticks_per_ms + ticks)
    return tuple(tats)


async def replay(
    limiter: RedisRateLimiter, limits: list[RateLimit], start: int, stream: list[tuple[int, int]]
) -> None:
    times = itertools.accumulate((gap for gap, _ in stream), initial=start)
    await follow(
        limiter,
        limits,
        list(zip(itertools.islice(times, 1, None), (c for _, c in stream), strict=True)),
    )


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(limits=limit_sets, start=starts, stream=streams)
def test_the_script_decides_and_stores_exactly_as_the_core(
    loop_and_limiter: tuple[asyncio.AbstractEventLoop, RedisRateLimiter],
    limits: list[RateLimit],
    start: int,
    stream: list[tuple[int, int]],
) -> None:
    loop, limiter = loop_and_limiter
    loop.run_until_complete(replay(limiter, limits, start, stream))


async def test_the_widest_limit_is_exact_at_its_full_burst(limiter: RedisRateLimiter) -> None:
    """A whole day's burst at once, then a refusal whose wait is counted to the tick."""
    steps = [(1_000, WIDEST.limit), (1_000, 1), (1_001, 1), (1_829, 1), (1_830, 1)]
    steps += [(90_000_000, WIDEST.limit // 2), (90_000_000, WIDEST.limit)]
    await follow(limiter, [WIDEST], steps)
    await follow(limiter, [WIDEST, parse_rate_limit("1000000/d")], steps)


async def follow(
    limiter: RedisRateLimiter, limits: list[RateLimit], steps: list[tuple[int, int]]
) -> None:
    """Each (now, cost) decided and stored as the core does, costs capped at the smallest."""
    key_id = secrets.token_hex(8)
    tats: tuple[int | None, ...] = (None,) * len(limits)
    smallest = min(limit.limit for limit in limits)
    for now, cost in steps:
        expected = gcra(tats, now, limits, min(cost, smallest))
        assert await limiter.check(key_id, limits, min(cost, smallest), now_ms=now) == expected
        assert await stored_tats(limiter, key_id, limits) == expected.tats
        tats = expected.tats


async def test_200_concurrent_checks_admit_exactly_the_limit(limiter: RedisRateLimiter) -> None:
    limits = [parse_rate_limit("50/m")]
    now = 1_700_000_000_000
    decisions = await asyncio.gather(
        *(limiter.check("busy", limits, now_ms=now) for _ in range(200))
    )
    assert sum(decision.admitted for decision in decisions) == 50
    assert sorted(d.remaining[0] for d in decisions if d.admitted) == list(range(50))


async def test_concurrent_checks_on_redis_time_admit_the_limit_and_what_refilled(
    limiter: RedisRateLimiter,
) -> None:
    """On Redis's clock: at most 50, plus one per 1.2 s the burst took (none, usually)."""
    limits = [parse_rate_limit("50/m")]
    began = time.monotonic()
    decisions = await asyncio.gather(*(limiter.check("clock", limits) for _ in range(200)))
    took_ms = (time.monotonic() - began) * 1000
    admitted = sum(decision.admitted for decision in decisions)
    assert 50 <= admitted <= 50 + int(took_ms * 50 / 60_000) + 1
    refused = [d for d in decisions if not d.admitted]
    assert all(d.retry_after_ms is not None and 0 < d.retry_after_ms <= 1200 for d in refused)


async def test_a_changed_limit_starts_fresh_and_a_renamed_one_keeps_its_count(
    limiter: RedisRateLimiter,
) -> None:
    now = 5_000_000
    two = [parse_rate_limit("2/m")]
    for _ in range(2):
        assert (await limiter.check("k", two, now_ms=now)).admitted
    assert not (await limiter.check("k", two, now_ms=now)).admitted
    assert not (await limiter.check("k", [parse_rate_limit("2/m", "renamed")], now_ms=now)).admitted
    three = await limiter.check("k", [parse_rate_limit("3/m")], now_ms=now)
    assert three.admitted
    assert three.remaining == (2,)


async def test_forget_drops_the_counters(limiter: RedisRateLimiter) -> None:
    limits = [parse_rate_limit("1/h")]
    assert (await limiter.check("gone", limits, now_ms=1_000)).admitted
    assert await limiter.client.exists(limiter.state_key("gone")) == 1
    await limiter.forget("gone")
    assert await limiter.client.exists(limiter.state_key("gone")) == 0
    assert (await limiter.check("gone", limits, now_ms=1_000)).admitted


async def test_keys_do_not_share_counters(limiter: RedisRateLimiter) -> None:
    limits = [parse_rate_limit("1/h")]
    assert (await limiter.check("a", limits, now_ms=1_000)).admitted
    assert not (await limiter.check("a", limits, now_ms=1_000)).admitted
    assert (await limiter.check("b", limits, now_ms=1_000)).admitted
    assert limiter.state_key("a").endswith("rl:{a}")  # a hash tag: one cluster slot per key


async def test_one_sharing_the_caches_client_counts_under_the_caches_prefix(
    redis_url: str, redis_prefix: str
) -> None:
    cache = RedisKeyCache.from_url(
        redis_url, mac_key=b"k" * 32, prefix=f"{redis_prefix}{secrets.token_hex(3)}:"
    )
    limiter = RedisRateLimiter.sharing(cache)
    assert limiter.client is cache.client
    assert limiter.state_key("a") == f"{cache.prefix}rl:{{a}}"
    assert (await limiter.check("a", [parse_rate_limit("1/h")])).remaining == (0,)
    await cache.close()


async def test_the_state_expires_within_the_longest_window(limiter: RedisRateLimiter) -> None:
    limits = [parse_rate_limit("5/s"), parse_rate_limit("100/90s"), parse_rate_limit("9/10s")]
    await limiter.check("ttl", limits)
    ttl = await limiter.client.pttl(limiter.state_key("ttl"))
    assert 85_000 < ttl <= 90_000


async def test_the_callers_errors_are_refused_and_no_limits_make_no_round_trip() -> None:
    dead = RedisRateLimiter.from_url(f"redis://127.0.0.1:{free_port()}/0")
    decision = await dead.check("k", [])
    assert decision.admitted
    assert decision.retry_after_ms is None
    with pytest.raises(ValueError, match="cost"):
        await dead.check("k", [parse_rate_limit("2/s")], 3)
    with pytest.raises(ValueError, match="at most 4"):
        await dead.check("k", [parse_rate_limit(f"{n}/s") for n in range(1, 6)])
    await dead.close()


def free_port() -> int:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return int(probe.getsockname()[1])


async def assert_unavailable(limiter: RedisRateLimiter, within: float) -> None:
    began = time.monotonic()
    with pytest.raises(CacheUnavailableError):
        await limiter.check("k", [parse_rate_limit("2/s")])
    with pytest.raises(CacheUnavailableError):
        await limiter.forget("k")
    assert time.monotonic() - began < within


async def test_nothing_listening_is_cache_unavailable_at_once() -> None:
    limiter = RedisRateLimiter.from_url(f"redis://127.0.0.1:{free_port()}/0", timeout=TIMEOUT)
    await assert_unavailable(limiter, within=4 * TIMEOUT)
    await limiter.close()


async def test_a_silent_redis_is_cache_unavailable_within_the_timeout() -> None:
    """A server that accepts and never answers: each call ends at the timeout."""

    async def silent(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        await reader.read()  # until the client gives up and closes
        writer.close()

    server = await asyncio.start_server(silent, "127.0.0.1", 0)
    port = server.sockets[0].getsockname()[1]
    limiter = RedisRateLimiter.from_url(f"redis://127.0.0.1:{port}/0", timeout=TIMEOUT)
    async with server:
        await assert_unavailable(limiter, within=2 * 3 * TIMEOUT)
    await limiter.close()


@contextlib.contextmanager
def throwaway_redis() -> Iterator[tuple[subprocess.Popen[bytes], int]]:
    binary = shutil.which("redis-server")
    if binary is None:
        pytest.skip("no redis-server binary for a throwaway server")
    port = free_port()
    command = [binary, "--port", str(port), "--save", "", "--appendonly", "no"]
    server = subprocess.Popen(command, stdout=subprocess.DEVNULL)
    try:
        yield server, port
    finally:
        server.kill()
        server.wait()


async def test_a_flushed_script_is_loaded_again_and_a_killed_redis_is_unavailable() -> None:
    with throwaway_redis() as (server, port):
        limiter = RedisRateLimiter.from_url(f"redis://127.0.0.1:{port}/0", timeout=TIMEOUT)
        await wait_for_ping(limiter.client)
        limits = [parse_rate_limit("2/m")]
        assert (await limiter.check("k", limits, now_ms=1_000)).admitted
        await limiter.client.script_flush()  # as a restarted Redis would have lost it: NOSCRIPT
        assert (await limiter.check("k", limits, now_ms=1_000)).remaining == (0,)
        server.kill()
        server.wait()
        await assert_unavailable(limiter, within=4 * TIMEOUT)
        await limiter.close()


async def wait_for_ping(client: RedisClient) -> None:
    for _ in range(100):
        with contextlib.suppress(OSError, aioredis.RedisError):
            if await client.ping():
                return
        await asyncio.sleep(0.05)
    pytest.fail("the throwaway redis-server did not start")
