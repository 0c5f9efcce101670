"""A key's rate limits and quota counted in this process: the default without Redis, and what
a process falls back to while Redis is down (when the settings say to fail open). The decision
is the pure core's (`decide_usage`); a check and its count are one synchronous step, so
concurrent requests cannot all pass before any is counted.

N processes counting this way admit up to N times each limit, and each spends its own copy of
a quota: exact only for one process."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import Callable, Sequence
from typing import NamedTuple

from keyguard.core import Quota, RateLimit, UsageDecision, decide_usage

__all__ = ["LocalUsageCounter"]


class _Kept(NamedTuple):
    tats: dict[str, int]  # by the limit's canonical text, as the Redis hash keeps them
    quota: Quota | None  # the count under the setting it started from


class LocalUsageCounter:
    def __init__(self, *, max_keys: int = 100_000, clock: Callable[[], float] = time.time) -> None:
        self.max_keys = max_keys
        self._clock = clock
        self._kept: OrderedDict[str, _Kept] = OrderedDict()

    async def decide(
        self,
        key_id: str,
        limits: Sequence[RateLimit],
        quota: Quota | None,
        cost: int = 1,
        *,
        now_ms: int | None = None,
    ) -> UsageDecision:
        now = int(self._clock() * 1000) if now_ms is None else now_ms
        kept = self._kept.get(key_id) or _Kept({}, None)
        counted = kept.quota
        if quota is not None and (counted is None or counted.set_at_ms < quota.set_at_ms):
            counted = quota  # a new setting (or the first sight of it): its count starts here
        tats = [kept.tats.get(limit.text) for limit in limits]
        decision = decide_usage(tats, None if quota is None else counted, now, limits, cost)
        if decision.admitted:
            new_tats = dict(kept.tats)
            for limit, tat in zip(limits, decision.rate.tats, strict=True):
                if tat is not None:
                    new_tats[limit.text] = tat
            self._keep(key_id, _Kept(new_tats, decision.quota))
        return decision

    def _keep(self, key_id: str, kept: _Kept) -> None:
        self._kept[key_id] = kept
        self._kept.move_to_end(key_id)
        if len(self._kept) > self.max_keys:  # the least recently used key starts afresh
            self._kept.popitem(last=False)

    async def forget(self, key_id: str) -> None:
        self._kept.pop(key_id, None)
