"""A reset quota while some process still holds the old setting (for up to max_staleness):
the old setting's requests spend the new count, they never start it over. Both counters, the
real Redis and this process's."""

from __future__ import annotations

import pytest

from keyguard.adapters import LocalUsageCounter, RedisRateLimiter
from keyguard.core import Quota
from keyguard.ports import UsageCounter

T0 = 1_700_000_000_000
OLD = Quota(5, None, None, T0, T0)
NEW = Quota(1, None, None, T0, T0 + 1)  # set later: a reset to 1


@pytest.mark.parametrize("where", ["redis", "here"])
async def test_a_stale_setting_never_starts_the_new_count_over(
    limiter: RedisRateLimiter, where: str
) -> None:
    counter: UsageCounter = limiter if where == "redis" else LocalUsageCounter()
    assert (await counter.decide("k", [], OLD, now_ms=T0)).admitted
    assert (await counter.decide("k", [], NEW, now_ms=T0)).admitted  # the new count: 1, spent
    stale = await counter.decide("k", [], OLD, now_ms=T0)  # a process behind by a moment
    assert stale.quota_spent and stale.quota is not None and stale.quota.remaining == 0
    assert not (await counter.decide("k", [], NEW, now_ms=T0)).admitted
