"""GCRA judged against an independent oracle: token buckets kept in exact fractions (capacity
N, refilled at N/W per ms, starting full), over random request times and costs, for one limit
and several. Same admit or refuse for every request, same remaining, exact waits; the stated
bound over every interval; a refused request changes nothing."""

from __future__ import annotations

import math
from fractions import Fraction

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from keyguard.core import RateDecision, RateLimit, gcra


@st.composite
def small_limits(draw: st.DrawFn) -> RateLimit:
    # Small counts and windows so streams reach the limits; odd pairs so ticks are not ms.
    count = draw(st.integers(1, 12) | st.sampled_from([7, 60, 97, 1000]))
    window_ms = 1000 * draw(st.integers(1, 30) | st.sampled_from([7, 60, 3600]))
    return RateLimit(count, window_ms, "x")


limit_sets = st.lists(small_limits(), min_size=1, max_size=4)
# (gap since the previous request in ms, cost); many gaps are 0: bursts at one instant.
streams = st.lists(
    st.tuples(st.integers(0, 3000) | st.just(0), st.integers(0, 3)), min_size=1, max_size=60
)
starts = st.integers(0, 2 * 10**12)  # ms since the epoch, now and for centuries


class Bucket:
    """The oracle: a token bucket in exact fractions."""

    def __init__(self, limit: RateLimit) -> None:
        self.size = Fraction(limit.limit)
        self.rate = Fraction(limit.limit, limit.window_ms)  # tokens per ms
        self.tokens = self.size
        self.at: int | None = None

    def level(self, now: int) -> Fraction:
        if self.at is None:
            return self.size
        return min(self.size, self.tokens + (now - self.at) * self.rate)

    def wait_for(self, now: int, amount: int) -> int:
        """Whole ms until the bucket holds `amount`."""
        short = amount - self.level(now)
        return max(0, math.ceil(short / self.rate))

    def take(self, now: int, amount: int) -> None:
        self.tokens, self.at = self.level(now) - amount, now


def run(
    limits: list[RateLimit], start: int, stream: list[tuple[int, int]]
) -> list[tuple[int, int, RateDecision]]:
    """Feed `stream` to gcra, checking each decision against the oracle as it goes."""
    buckets = [Bucket(limit) for limit in limits]
    tats: tuple[int | None, ...] = (None,) * len(limits)
    now, seen = start, []
    smallest = min(limit.limit for limit in limits)
    for gap, wanted in stream:
        now += gap
        cost = min(wanted, smallest)
        decision = gcra(tats, now, limits, cost)
        check_against_oracle(buckets, now, cost, decision)
        if not decision.admitted:
            assert decision.tats == tats  # a refused request changes no state
        tats = decision.tats
        seen.append((now, cost, decision))
    return seen


def check_against_oracle(buckets: list[Bucket], now: int, cost: int, got: RateDecision) -> None:
    admitted = all(bucket.level(now) >= cost for bucket in buckets)
    assert got.admitted is admitted
    if admitted:
        for bucket in buckets:
            bucket.take(now, cost)
        assert got.retry_after_ms is None
    else:
        assert got.retry_after_ms == max(bucket.wait_for(now, cost) for bucket in buckets)
    for bucket, remaining, reset in zip(buckets, got.remaining, got.reset_ms, strict=True):
        level = bucket.level(now)
        assert remaining == math.floor(level)
        assert reset == (0 if level == bucket.size else bucket.wait_for(now, remaining + 1))


@settings(max_examples=300)
@given(small_limits(), starts, streams)
def test_one_limit_decides_as_the_exact_token_bucket(
    limit: RateLimit, start: int, stream: list[tuple[int, int]]
) -> None:
    run([limit], start, stream)


@settings(max_examples=300)
@given(limit_sets, starts, streams)
def test_several_limits_decide_as_their_buckets_together(
    limits: list[RateLimit], start: int, stream: list[tuple[int, int]]
) -> None:
    run(limits, start, stream)


@settings(max_examples=300)
@given(limit_sets, starts, streams)
def test_no_interval_admits_more_than_the_bound(
    limits: list[RateLimit], start: int, stream: list[tuple[int, int]]
) -> None:
    """Over every closed interval [s, e]: admitted cost <= N + floor((e - s) * N / W), for
    each limit. Intervals between two admitted times suffice: shrinking an interval to the
    first and last admissions in it keeps its count and shortens it."""
    admitted = [(now, cost) for now, cost, got in run(limits, start, stream) if got.admitted]
    for limit in limits:
        for i, (first, _) in enumerate(admitted):
            total = 0
            for last, cost in admitted[i:]:
                total += cost
                span = last - first
                assert total <= limit.limit + span * limit.limit // limit.window_ms


@given(small_limits(), starts)
def test_a_fresh_key_gets_exactly_its_burst_at_once(limit: RateLimit, start: int) -> None:
    tats: tuple[int | None, ...] = (None,)
    for _ in range(limit.limit):
        decision = gcra(tats, start, [limit])
        assert decision.admitted
        tats = decision.tats
    assert decision.remaining == (0,)
    refused = gcra(tats, start, [limit])
    assert not refused.admitted
    assert refused.retry_after_ms == math.ceil(Fraction(limit.window_ms, limit.limit))


@settings(max_examples=300)
@given(limit_sets, starts, streams, st.integers(1, 3))
def test_retry_after_is_exact(
    limits: list[RateLimit], start: int, stream: list[tuple[int, int]], wanted: int
) -> None:
    """Refused now: admitted at now + retry_after, refused a millisecond earlier."""
    seen = run(limits, start, stream)
    now, _, last = seen[-1]
    cost = min(wanted, *(limit.limit for limit in limits))
    decision = gcra(last.tats, now, limits, cost)
    if decision.admitted:
        return
    wait = decision.retry_after_ms
    assert wait is not None and wait > 0
    assert gcra(last.tats, now + wait, limits, cost).admitted
    assert not gcra(last.tats, now + wait - 1, limits, cost).admitted


def test_hand_checked_ticks() -> None:
    """3 per 10 s: one request is 10/3 s, not a whole ms; ticks of 1/3 ms keep it exact."""
    limit = RateLimit(3, 10_000, "slow")
    assert (limit.ticks_per_ms, limit.interval_ticks) == (3, 10_000)
    tats: tuple[int | None, ...] = (None,)
    for _ in range(3):
        tats = gcra(tats, 0, [limit]).tats
    refused = gcra(tats, 0, [limit])
    assert (refused.admitted, refused.retry_after_ms, refused.reset_ms) == (False, 3334, (3334,))
    assert gcra(tats, 3334, [limit]).remaining == (0,)  # admitted, and spent again
    assert gcra(tats, 6667, [limit], cost=2).admitted  # 20/3 s = 6666.67 ms: two units back


def test_a_clock_behind_the_state_is_safe() -> None:
    """Another host's clock a little behind: the TAT runs further ahead, never wraps."""
    limit = RateLimit(2, 1000, "x")
    tats = gcra([None], 10_000, [limit], 2).tats
    earlier = gcra(tats, 9_000, [limit])
    assert not earlier.admitted
    assert earlier.retry_after_ms == 1_500


@pytest.mark.parametrize("cost", [-1, 3])
def test_a_cost_no_limit_could_admit_is_an_error(cost: int) -> None:
    with pytest.raises(ValueError, match="cost"):
        gcra([None, None], 0, [RateLimit(5, 1000, "a"), RateLimit(2, 1000, "b")], cost)
    with pytest.raises(ValueError, match="one TAT per limit"):
        gcra([None], 0, [RateLimit(5, 1000, "a"), RateLimit(2, 1000, "b")])
