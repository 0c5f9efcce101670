"""A key's usage limits as its page and the one-time dialog say them: its rate limits (its own,
the settings' default for its type, or none) and its quota as of now (a refill that is due shows
as done: the limiter applies it on the key's next request).

The quota shown is the allowance the store holds: what was set, or what the limiter last wrote
back. Requests counted since then are not in it yet.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import UTC, datetime, timedelta

from keyguard.core import KeyRecord, Quota, RateLimit, RateLimitDefaults, interval_text, refilled
from keyguard.core import next_refill_ms as ms_to_next_refill

from .event_words import interval_words

__all__ = ["UsageView", "limits_in_words", "ms_of", "reset"]


def ms_of(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def limits_in_words(limits: tuple[RateLimit, ...]) -> str:
    """`100/s, 5000/h`; a limit with a name of its own says it: `100/s (burst)`."""
    return ", ".join(
        lim.text if lim.name == lim.text else f"{lim.text} ({lim.name})" for lim in limits
    )


def reset(quota: Quota, now: datetime) -> Quota:
    """What "Reset quota" sets: what is left, or the refill amount if that is more, as a refill
    would (an operator's top-up is not taken away); the manager counts it from now."""
    current = refilled(quota, ms_of(now))
    return replace(current, remaining=max(current.remaining, current.refill_amount or 0))


@dataclass(frozen=True, slots=True)
class UsageView:
    record: KeyRecord
    defaults: tuple[RateLimit, ...]  # what the settings give a key of its type
    now: datetime

    @classmethod
    def of(cls, record: KeyRecord, defaults: RateLimitDefaults, now: datetime) -> UsageView:
        return cls(record, defaults.for_key(record.access, record.environment), now)

    @property
    def rate_limits(self) -> str:
        own = self.record.rate_limits
        if own is None:
            default = limits_in_words(self.defaults) or "no rate limit"
            return f"Default: {default}"
        return limits_in_words(own) or "No rate limit"

    @property
    def default_text(self) -> str:
        """The default, for the form's choice of it."""
        return limits_in_words(self.defaults) or "no rate limit"

    @property
    def quota(self) -> Quota | None:
        quota = self.record.quota
        return None if quota is None else refilled(quota, ms_of(self.now))

    @property
    def reset_to(self) -> int | None:
        quota = self.record.quota
        return None if quota is None else reset(quota, self.now).remaining

    @property
    def refill(self) -> str | None:
        """`1000 every 1d`, or None for a quota that never refills."""
        quota = self.quota
        if quota is None or quota.refill_amount is None or quota.refill_interval_ms is None:
            return None
        every = interval_words(interval_text(quota.refill_interval_ms))
        return f"{quota.refill_amount} every {every}"

    @property
    def next_refill(self) -> datetime | None:
        quota = self.record.quota
        if quota is None:
            return None
        wait = ms_to_next_refill(quota, ms_of(self.now))
        return None if wait is None else self.now.astimezone(UTC) + timedelta(milliseconds=wait)
