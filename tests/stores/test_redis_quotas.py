"""Quotas in the Redis limiter's script, against the real Redis: every decision is the pure
core's (`decide_usage`) from the same state; 200 requests at once spend a quota exactly; a new
setting starts the count over; refills follow the injected clock; and revoking drops it all."""

from __future__ import annotations

import asyncio
import secrets

import pytest
import redis.asyncio as aioredis
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from keyguard.adapters import RedisRateLimiter
from keyguard.core import (
    MAX_QUOTA,
    CacheUnavailableError,
    Quota,
    RateLimit,
    decide_usage,
    parse_rate_limit,
)

DAY = 86_400_000
T0 = 1_700_000_000_000


@st.composite
def quotas(draw: st.DrawFn) -> Quota:
    refill = draw(st.booleans())
    return Quota(
        draw(st.integers(0, 6)),
        draw(st.integers(1, 5)) if refill else None,
        1000 * draw(st.integers(1, 5)) if refill else None,
        T0,
        T0,
    )


limit_sets = st.lists(
    st.builds(
        RateLimit, st.integers(1, 5), st.integers(1, 4).map(lambda s: s * 1000), st.just("x")
    ).map(lambda lim: RateLimit(lim.limit, lim.window_ms, lim.text)),
    max_size=2,
    unique_by=lambda lim: lim.text,
)
streams = st.lists(st.tuples(st.integers(0, 2500), st.integers(0, 2)), min_size=1, max_size=30)


@settings(
    max_examples=60, deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture]
)
@given(quota=quotas(), limits=limit_sets, stream=streams)
def test_every_decision_is_the_cores(
    loop_and_limiter: tuple[asyncio.AbstractEventLoop, RedisRateLimiter],
    quota: Quota,
    limits: list[RateLimit],
    stream: list[tuple[int, int]],
) -> None:
    loop, limiter = loop_and_limiter
    key_id = secrets.token_hex(6)
    tats: tuple[int | None, ...] = (None,) * len(limits)
    state, now = quota, T0
    for gap, cost in stream:
        now += gap
        cost = min(cost, *(lim.limit for lim in limits)) if limits else cost
        expected = decide_usage(tats, state, now, limits, cost)
        got = loop.run_until_complete(limiter.decide(key_id, limits, quota, cost, now_ms=now))
        assert got.admitted == expected.admitted
        assert got.quota_spent == expected.quota_spent
        assert got.retry_after_ms == expected.retry_after_ms
        assert got.rate.remaining == expected.rate.remaining
        assert got.quota is not None and expected.quota is not None
        assert got.quota.remaining == expected.quota.remaining
        if expected.admitted:
            tats, state = expected.rate.tats, expected.quota


async def test_two_hundred_at_once_spend_a_quota_exactly(limiter: RedisRateLimiter) -> None:
    quota = Quota(150, None, None, T0, T0)
    decisions = await asyncio.gather(*(limiter.decide("k", [], quota) for _ in range(200)))
    admitted = [d for d in decisions if d.admitted]
    assert len(admitted) == 150
    assert sorted(d.quota.remaining for d in admitted if d.quota) == list(range(150))
    refused = [d for d in decisions if not d.admitted]
    assert all(d.quota_spent and d.retry_after_ms is None for d in refused)


async def test_a_new_setting_starts_the_count_over(limiter: RedisRateLimiter) -> None:
    first = Quota(2, None, None, T0, T0)
    for _ in range(2):
        assert (await limiter.decide("k", [], first, now_ms=T0)).admitted
    assert not (await limiter.decide("k", [], first, now_ms=T0)).admitted
    again = Quota(2, None, None, T0, T0 + 1)  # the same allowance, set again: a reset
    decision = await limiter.decide("k", [], again, now_ms=T0)
    assert decision.admitted and decision.quota and decision.quota.remaining == 1


async def test_refills_follow_the_clock_on_their_schedule(limiter: RedisRateLimiter) -> None:
    quota = Quota(1, 3, DAY, T0, T0)
    assert (await limiter.decide("k", [], quota, now_ms=T0)).admitted
    spent = await limiter.decide("k", [], quota, now_ms=T0 + DAY - 1)
    assert spent.quota_spent and spent.retry_after_ms == 1
    refilled = await limiter.decide("k", [], quota, now_ms=T0 + 3 * DAY + 5)
    assert refilled.admitted and refilled.quota is not None
    assert (refilled.quota.remaining, refilled.quota.refilled_at_ms) == (2, T0 + 3 * DAY)


async def test_a_refused_rate_spends_no_quota(limiter: RedisRateLimiter) -> None:
    quota, limits = Quota(10, None, None, T0, T0), [parse_rate_limit("1/s")]
    assert (await limiter.decide("k", limits, quota, now_ms=T0)).admitted
    refused = await limiter.decide("k", limits, quota, now_ms=T0)
    assert refused.rate_spent and not refused.quota_spent
    assert refused.quota is not None and refused.quota.remaining == 9


async def test_forgetting_a_key_drops_its_quota(limiter: RedisRateLimiter) -> None:
    quota = Quota(5, None, None, T0, T0)
    await limiter.decide("k", [parse_rate_limit("5/s")], quota)
    assert await limiter.client.exists(limiter.state_key("k"))
    assert await limiter.client.pttl(limiter.state_key("k")) > 0  # never kept forever
    await limiter.forget("k")
    assert not await limiter.client.exists(limiter.state_key("k"))


_HEAD = [1, -1, -1, -1, -1, 0]


@pytest.mark.parametrize(
    "reply", [None, [1], [*_HEAD, 0, 0, 0], [b"x", *_HEAD[1:], 1, 0, 0, 0], _HEAD + [1] * 5]
)
def test_a_reply_of_another_shape_is_cache_unavailable(reply: object) -> None:
    limiter = RedisRateLimiter(aioredis.Redis())  # never connects: only the reply is judged
    with pytest.raises(CacheUnavailableError, match="oddly"):
        limiter._decision(reply, [parse_rate_limit("1/s")], None)


def test_a_quota_reply_out_of_range_is_cache_unavailable() -> None:
    limiter = RedisRateLimiter(aioredis.Redis())
    with pytest.raises(CacheUnavailableError, match="oddly"):
        limiter._decision(_HEAD, [], Quota(5, None, None, 0, 0))


async def test_a_count_out_of_range_in_redis_is_cache_unavailable(
    limiter: RedisRateLimiter,
) -> None:
    """A hand-edited hash under the current setting: the caller's fail-open or fail-closed
    choice applies, never a ValueError (a 500) from the quota's own checks."""
    quota = Quota(5, None, None, T0, T0)
    await limiter.client.hset(limiter.state_key("k"), "q", f"{T0}:{MAX_QUOTA + 10}:{T0}")
    with pytest.raises(CacheUnavailableError, match="oddly"):
        await limiter.decide("k", [], quota, now_ms=T0)
