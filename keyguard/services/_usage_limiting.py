"""A key's usage limits on the request path: which apply (its own, else the settings' default),
and each request counted against them, in Redis (every process shares one count) or in this
process.

While Redis cannot count, the settings choose: fail open (the default) counts in this process
until Redis answers again, since a rate limit protects capacity and is not authentication, and
an outage should not take every limited key down with it; fail closed answers 503 for limited
keys. Either way the first failure of an outage is logged with the choice, recovery is logged,
and both are counted (`outages`, `counted_here`, `refused_unavailable`). An outage is three
failures in a row (the breaker opens); a lone failure is handled the same way for its request.
Nothing here decides whether a key is valid: that was settled before, and is never loosened by
an outage here.
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from typing import NamedTuple

from keyguard.core import (
    AuditEventType,
    CacheUnavailableError,
    KeyRecord,
    Quota,
    RateLimit,
    RateLimitDefaults,
    UsageDecision,
    usage_headers,
    usage_policy,
)
from keyguard.ports import UsageCounter

from ._circuit_breaker import CircuitBreaker
from ._key_changes import KeyChange
from ._quota_writer import QuotaWriter

__all__ = ["UsageLimiting", "UsagePlan"]

logger = logging.getLogger(__name__)
_GONE = frozenset({AuditEventType.REVOKED, AuditEventType.DELETED})


class UsagePlan(NamedTuple):
    """A key's limits as the request path applies them: built once per cached record."""

    key_id: str  # the key used: its row gets the quota's count written back
    counter_id: str  # whose counts it spends: its own, or its roll chain's first key's
    limits: tuple[RateLimit, ...]
    quota: Quota | None
    policy: bytes  # the RateLimit-Policy field: the same on every response of the key

    def headers(self, decision: UsageDecision) -> list[tuple[bytes, bytes]]:
        return usage_headers(self.limits, decision, self.policy)


class UsageLimiting:
    def __init__(
        self,
        shared: UsageCounter | None,
        local: UsageCounter,
        *,
        defaults: RateLimitDefaults,
        fail_open: bool = True,
        clock_ms: Callable[[], int] | None = None,
        quota_writer: QuotaWriter | None = None,
    ) -> None:
        self.shared = shared
        self.local = local
        self.defaults = defaults
        self.fail_open = fail_open
        # None: each counter's own clock (Redis's, for the shared one); tests pass one.
        self.clock_ms = clock_ms
        self.quota_writer = quota_writer  # None: the store never hears of quota counts
        # Three failures in a row make an outage: one slow reply under load is a blip, counted
        # here (or refused, closed) for that request alone, not two seconds of every process
        # counting apart.
        self.breaker = CircuitBreaker("Redis (usage limits)", failure_threshold=3)
        self.outages = 0
        self.counted_here = 0  # decisions made in this process while Redis was down
        self.refused_unavailable = 0  # 503s for want of a count (fail closed)
        self._down = False

    def plan(self, record: KeyRecord) -> UsagePlan | None:
        """The key's plan, or None when nothing limits it (no I/O then, ever)."""
        limits = record.rate_limits
        if limits is None:
            limits = self.defaults.for_key(record.access, record.environment)
        if not limits and record.quota is None:
            return None
        counter = record.counted_as or record.id
        policy = usage_policy(limits, record.quota)
        return UsagePlan(record.id, counter, limits, record.quota, policy)

    async def decide(self, plan: UsagePlan) -> UsageDecision | None:
        """Count one request; None when it cannot be counted and the settings say fail closed."""
        decision = await self._decide(plan)
        if (
            decision is not None
            and decision.admitted
            and decision.quota is not None
            and self.quota_writer is not None
        ):
            self.quota_writer.note(plan.key_id, decision.quota)
        return decision

    async def _decide(self, plan: UsagePlan) -> UsageDecision | None:
        now = None if self.clock_ms is None else self.clock_ms()
        if self.shared is not None and self.breaker.allows():
            try:
                decision = await self.shared.decide(
                    plan.counter_id, plan.limits, plan.quota, now_ms=now
                )
            except CacheUnavailableError as exc:
                self.breaker.failure()
                self._outage(exc)
            else:
                self.breaker.success()
                self._recovered()
                return decision
        if self.shared is not None:
            if not self.fail_open:
                self.refused_unavailable += 1
                return None
            self.counted_here += 1
        return await self.local.decide(plan.counter_id, plan.limits, plan.quota, now_ms=now)

    def _outage(self, exc: CacheUnavailableError) -> None:
        if self._down or not self.breaker.is_open:
            logger.debug("Redis did not count a request: %s", exc)
            return
        self._down = True
        self.outages += 1
        choice = (
            "counting limited keys in each process until it answers (fail open)"
            if self.fail_open
            else "answering 503 to limited keys until it answers (fail closed)"
        )
        logger.warning("Redis cannot count usage limits (%s): %s", exc, choice)

    def _recovered(self) -> None:
        if self._down:
            self._down = False
            logger.info("Redis counts usage limits again")

    async def on_key_change(self, change: KeyChange) -> None:
        """The manager's listener: a revoked or deleted key's counts are dropped."""
        if change.event not in _GONE:
            return
        await self.local.forget(change.key_id)
        if self.shared is None:
            return
        try:
            await self.shared.forget(change.key_id)
        except CacheUnavailableError as exc:  # harmless: the key can never pass again
            logger.warning("could not drop the usage counts of %s: %s", change.key_id, exc)
