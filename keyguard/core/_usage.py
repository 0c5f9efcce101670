"""One request against all of a key's usage limits: its rate limits (GCRA, `_gcra`) and its
quota (`_quotas`), decided together. A request is admitted only when every rate limit and the
quota admit it; a refused request consumes from none of them, so a key refused for its rate keeps
its quota, and a key whose quota is spent does not also run its rate down.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, replace

from ._gcra import RateDecision, gcra
from ._quotas import Quota, next_refill_ms, refilled
from ._rate_limits import RateLimit

__all__ = ["NO_RATE", "UsageDecision", "combined", "decide_usage"]

NO_RATE = RateDecision(True, (), (), (), None)  # a key with a quota and no rate limit


@dataclass(frozen=True, slots=True)
class UsageDecision:
    """`quota`: the quota's state after this request (None: the key has none). `quota_spent`:
    the quota refused it. `retry_after_ms`: when refused, the wait after which the same request
    would pass if nothing else came; None when admitted, or when no wait will do (a quota with
    no refill, spent: only an operator can give it more)."""

    admitted: bool
    rate: RateDecision
    quota: Quota | None
    quota_spent: bool
    retry_after_ms: int | None
    now_ms: int  # when it was decided, on the counter's clock

    @property
    def rate_spent(self) -> bool:
        return not self.rate.admitted


def decide_usage(
    tats: Sequence[int | None],
    quota: Quota | None,
    now_ms: int,
    limits: Sequence[RateLimit],
    cost: int = 1,
) -> UsageDecision:
    """Decide one request of `cost` at `now_ms` from the stored state: each limit's TAT, and the
    quota as last stored (a refill that is due is applied here)."""
    rate = gcra(tats, now_ms, limits, cost) if limits else NO_RATE
    current = None if quota is None else refilled(quota, now_ms)
    quota_admits = current is None or current.remaining >= cost
    if rate.admitted and not quota_admits and limits:
        rate = gcra(tats, now_ms, limits, 0)  # refused: the rate is looked at, not spent
    if rate.admitted and quota_admits and current is not None:
        current = replace(current, remaining=current.remaining - cost)
    return combined(rate, current, quota_admits, now_ms)


def combined(
    rate: RateDecision, quota: Quota | None, quota_admits: bool, now_ms: int
) -> UsageDecision:
    """The decision from its two halves (the Redis script decides both; this names it)."""
    admitted = rate.admitted and quota_admits
    if admitted:
        return UsageDecision(True, rate, quota, False, None, now_ms)
    waits = [] if rate.admitted else [rate.retry_after_ms or 0]
    if not quota_admits:
        refill = None if quota is None else next_refill_ms(quota, now_ms)
        if refill is None:  # no wait brings it back: no Retry-After
            return UsageDecision(False, rate, quota, True, None, now_ms)
        waits.append(refill)
    return UsageDecision(False, rate, quota, not quota_admits, max(waits), now_ms)
