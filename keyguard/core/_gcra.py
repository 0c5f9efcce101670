"""The rate limiter's arithmetic: GCRA, the generic cell rate algorithm, pure and exact.

Why GCRA: it is the token bucket in its "theoretical arrival time" (TAT) form, so each key keeps
one number per limit (no list of timestamps, no pair of windows), a check is O(1), and the whole
decision for every limit of a key fits in one Redis script, one round trip. Unlike fixed windows
it has no edge where twice the limit gets through, and unlike a two-window sliding estimate it is
exact.

The guarantee, for a limit "N per W" (N = `limit`, W = `window_ms`), counting each request's
cost: starting fresh, at most N are admitted at one instant; and over every closed interval of
time [s, s + D] (D in ms), whatever came before, at most N + floor(D * N / W) are admitted. The
limiter is exactly a token bucket holding at most N tokens, refilled continuously at N/W per ms,
starting full (the tests check every decision against such a bucket kept in exact fractions):
the bucket holds at most N at s, at most D * N / W is added during the interval, and the count
admitted is whole. The bound is reached: a fresh key sending as fast as it may gets exactly it.

Several limits at once (a burst and a sustained rate): a request is admitted only if every limit
admits it, and a refused request consumes from none of them (so a flood of refusals never pushes
a key's recovery further away).

Time is integer milliseconds, passed in: no clock is read here. The TAT of a limit is an integer
count of ticks of 1/k ms (k = `RateLimit.ticks_per_ms`), so that one unit of cost, W/N ms, is a
whole number of ticks and nothing is rounded: integer arithmetic only, no floats, because the
Redis script must reproduce every decision exactly. That script (Lua 5.1: numbers are doubles)
must not form the absolute TAT in ticks (now * k can pass 2^53); it keeps each TAT as
(whole ms, remaining ticks) = divmod(tat, k) and works, as `_excess` does here, with how far the
TAT runs ahead of now, which never passes lcm(N, W) <= 2^53 (`_rate_limits` refuses larger).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

from ._rate_limits import RateLimit

__all__ = ["RateDecision", "gcra"]


@dataclass(frozen=True, slots=True)
class RateDecision:
    """The answer for one request under a key's limits (each tuple in the limits' order).

    `tats`: the state to store (the same values as given when refused). `remaining`: whole units
    of cost each limit would admit now, after this request. `reset_ms`: ms until each limit's
    remaining grows by one (0 when it is full). `retry_after_ms`: when refused, the wait after
    which the same request is admitted if nothing else is (over all limits); None when admitted.
    """

    admitted: bool
    tats: tuple[int | None, ...]
    remaining: tuple[int, ...]
    reset_ms: tuple[int, ...]
    retry_after_ms: int | None


def gcra(
    tats: Sequence[int | None],
    now_ms: int,
    limits: Sequence[RateLimit],
    cost: int = 1,
) -> RateDecision:
    """Decide one request of `cost` at `now_ms`, given each limit's stored TAT (None: fresh).

    A cost of 0 admits and consumes nothing (a look at the state, for the header fields). A cost
    above a limit's count could never be admitted: that is the caller's error (ValueError)."""
    if len(tats) != len(limits):
        raise ValueError("one TAT per limit")
    if not 0 <= cost <= min((limit.limit for limit in limits), default=cost):
        raise ValueError("the cost must be from 0 to the smallest limit's count")
    excess = [_excess(tat, now_ms, limit) for tat, limit in zip(tats, limits, strict=True)]
    waits = [_wait_ms(ahead, limit, cost) for ahead, limit in zip(excess, limits, strict=True)]
    if any(waits):
        return _decision(False, tuple(tats), excess, limits, max(waits))
    pairs = list(zip(excess, limits, strict=True))
    after = [ahead + cost * limit.interval_ticks for ahead, limit in pairs]
    new_tats = tuple(
        now_ms * limit.ticks_per_ms + ahead for ahead, limit in zip(after, limits, strict=True)
    )
    return _decision(True, new_tats, after, limits, None)


def _excess(tat: int | None, now_ms: int, limit: RateLimit) -> int:
    """How many ticks the TAT runs ahead of now (0: the bucket is full)."""
    if tat is None:
        return 0
    return max(0, tat - now_ms * limit.ticks_per_ms)


def _wait_ms(ahead: int, limit: RateLimit, cost: int) -> int:
    """The whole ms to wait until this limit admits `cost`: the smallest x >= 0 with
    ahead - x*k + cost*T <= capacity (the TAT after it may run at most W ahead)."""
    over = ahead + cost * limit.interval_ticks - limit.capacity_ticks
    return max(0, -(-over // limit.ticks_per_ms))


def _remaining(ahead: int, limit: RateLimit) -> int:
    return (limit.capacity_ticks - ahead) // limit.interval_ticks


def _reset_ms(ahead: int, limit: RateLimit) -> int:
    """Ms until one more unit is available (the next whole token); 0 when the bucket is full."""
    if ahead == 0:
        return 0
    return _wait_ms(ahead, limit, _remaining(ahead, limit) + 1)


def _decision(
    admitted: bool,
    tats: tuple[int | None, ...],
    excess: Sequence[int],
    limits: Sequence[RateLimit],
    retry_after_ms: int | None,
) -> RateDecision:
    pairs = list(zip(excess, limits, strict=True))
    return RateDecision(
        admitted=admitted,
        tats=tats,
        remaining=tuple(_remaining(ahead, limit) for ahead, limit in pairs),
        reset_ms=tuple(_reset_ms(ahead, limit) for ahead, limit in pairs),
        retry_after_ms=retry_after_ms,
    )
