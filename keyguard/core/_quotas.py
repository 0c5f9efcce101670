"""A key's usage quota: an allowance of requests that each request spends, with an optional
refill (an amount every interval), pure and in integer milliseconds (no clock read here).

A quota is not a rate: it does not come back on its own, only by a refill or by an operator.
At zero the key is refused until the next refill (the web edge says the quota, not the rate, is
spent).

Refill semantics: a refill that is due *sets* the allowance back to the refill amount, as Unkey
does, and never adds to it. A quota is "this many per period": adding would let an idle key bank
unused periods and then spend a year of them in a burst, which is what the period was meant to
prevent; setting is also what a user coming from Unkey expects. One refinement: a refill never
lowers an allowance above the amount (an operator's top-up of 10,000 on a 1,000-a-day key is not
taken away at midnight), so a refill makes it max(remaining, amount). However many intervals have
passed, it is one refill (it sets, so missed ones do not count), and refills stay on the grid of
the first: the next is due at refilled_at_ms + interval, so a late request never shifts the
schedule. A clock behind `refilled_at_ms` refills nothing.

All values stay at or under 2^53 so that a Redis (Lua) script reproduces `spend` exactly.
"""

from __future__ import annotations

from dataclasses import dataclass, replace

from ._errors import FieldIssue, ValidationError
from ._rate_limits import parse_interval

__all__ = [
    "MAX_QUOTA",
    "MAX_REFILL_INTERVAL_MS",
    "MIN_REFILL_INTERVAL_MS",
    "Quota",
    "next_refill_ms",
    "parse_refill_interval",
    "refilled",
    "spend",
    "validate_quota",
]

MAX_QUOTA = 10**12
MIN_REFILL_INTERVAL_MS = 1_000
MAX_REFILL_INTERVAL_MS = 366 * 86_400_000
_MAX_MS = 2**53
_BOTH = "refillAmount and refillInterval are given together, or neither"


@dataclass(frozen=True, slots=True)
class Quota:
    """`remaining` units; every `refill_interval_ms` from `refilled_at_ms`, back to
    `refill_amount` (both None: no refill)."""

    remaining: int
    refill_amount: int | None
    refill_interval_ms: int | None
    refilled_at_ms: int
    # When an operator last set it (ms, unique per key): a counter kept elsewhere (Redis, a
    # process) under another `set_at_ms` is of an older setting, and is started again from this.
    set_at_ms: int = 0

    def __post_init__(self) -> None:
        issues = _issues(
            self.remaining, self.refill_amount, self.refill_interval_ms, self.refilled_at_ms
        )
        if not _whole(self.set_at_ms, 0, _MAX_MS):
            issues.append(FieldIssue("quota.setAt", "must be a time in ms"))
        if issues:
            raise ValueError("; ".join(f"{i.field}: {i.message}" for i in issues))


def refilled(quota: Quota, now_ms: int) -> Quota:
    """`quota` with the refill that is due at `now_ms` applied (itself when none is)."""
    interval = quota.refill_interval_ms
    if interval is None or quota.refill_amount is None:
        return quota
    periods = (now_ms - quota.refilled_at_ms) // interval
    if periods < 1:
        return quota
    return replace(
        quota,
        remaining=max(quota.remaining, quota.refill_amount),
        refilled_at_ms=quota.refilled_at_ms + periods * interval,
    )


def spend(quota: Quota, now_ms: int, cost: int = 1) -> tuple[bool, Quota]:
    """Whether a request of `cost` is admitted, and the quota to store. A refused request spends
    nothing (the refill it found due is still applied: storing it is harmless and idempotent)."""
    if cost < 0:
        raise ValueError("the cost must not be negative")
    current = refilled(quota, now_ms)
    if current.remaining < cost:
        return False, current
    return True, replace(current, remaining=current.remaining - cost)


def next_refill_ms(quota: Quota, now_ms: int) -> int | None:
    """Ms from `now_ms` until the next refill (None: the quota never refills)."""
    current = refilled(quota, now_ms)
    if current.refill_interval_ms is None:
        return None
    return max(0, current.refilled_at_ms + current.refill_interval_ms - now_ms)


def parse_refill_interval(text: str) -> int:
    """A refill interval as written (`1d`, `30d`, `12h`) in ms, from 1s to 366d; ValueError
    with the rule for anything else."""
    try:
        ms = parse_interval(text)
    except ValueError:
        ms = 0
    if not MIN_REFILL_INTERVAL_MS <= ms <= MAX_REFILL_INTERVAL_MS:
        raise ValueError("must be a duration from 1s to 366d, e.g. 1d, 30d, 12h")
    return ms


def validate_quota(
    remaining: object,
    refill_amount: object = None,
    refill_interval_ms: object = None,
    *,
    now_ms: int,
    field: str = "quota",
) -> Quota:
    """A quota as a key stores it, from what a client sent; refills are counted from `now_ms`.
    Errors name the field (`quota.remaining`), never echo the value."""
    issues = _issues(remaining, refill_amount, refill_interval_ms, now_ms, field)
    if issues:
        raise ValidationError(issues)
    assert isinstance(remaining, int)
    assert refill_amount is None or isinstance(refill_amount, int)
    assert refill_interval_ms is None or isinstance(refill_interval_ms, int)
    return Quota(remaining, refill_amount, refill_interval_ms, now_ms, now_ms)


def _whole(value: object, low: int, high: int) -> bool:
    # bool is an int to Python, never to a client: True is not a quota of 1.
    return isinstance(value, int) and not isinstance(value, bool) and low <= value <= high


def _issues(
    remaining: object,
    amount: object,
    interval: object,
    refilled_at: object,
    field: str = "quota",
) -> list[FieldIssue]:
    issues = []
    if not _whole(remaining, 0, MAX_QUOTA):
        issues.append(FieldIssue(f"{field}.remaining", f"must be from 0 to {MAX_QUOTA}"))
    if (amount is None) != (interval is None):
        issues.append(FieldIssue(f"{field}.refill", _BOTH))
    if amount is not None and not _whole(amount, 1, MAX_QUOTA):
        issues.append(FieldIssue(f"{field}.refillAmount", f"must be from 1 to {MAX_QUOTA}"))
    if interval is not None and not _whole(
        interval, MIN_REFILL_INTERVAL_MS, MAX_REFILL_INTERVAL_MS
    ):
        issues.append(FieldIssue(f"{field}.refillInterval", "must be from 1s to 366d"))
    if not _whole(refilled_at, 0, _MAX_MS):
        issues.append(FieldIssue(f"{field}.refilledAt", "must be a time in ms"))
    return issues
