"""A key's usage limits as its views show them: the rate limits as set (`rateLimits`), the ones
that apply (`effectiveRateLimits`: its own, or the settings' default for its access and
environment), and its quota with the refill that is due by now applied."""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

from ._quotas import next_refill_ms, refilled
from ._rate_limit_defaults import RateLimitDefaults
from ._records import KeyRecord
from ._times import format_time
from ._usage_limits import quota_json, rate_limits_json

__all__ = ["NO_DEFAULTS", "usage_view"]

NO_DEFAULTS = RateLimitDefaults({}, ())


def usage_view(record: KeyRecord, now: datetime, defaults: RateLimitDefaults) -> dict[str, Any]:
    own = record.rate_limits
    effective = defaults.for_key(record.access, record.environment) if own is None else own
    return {
        "rateLimits": rate_limits_json(own),
        "effectiveRateLimits": rate_limits_json(effective),
        "quota": _quota(record, now),
    }


def _quota(record: KeyRecord, now: datetime) -> dict[str, Any] | None:
    """The stored allowance as of `now`: a refill that is due counts as done."""
    if record.quota is None:
        return None
    now_ms = int(now.timestamp() * 1000)
    current = refilled(record.quota, now_ms)
    wait = next_refill_ms(current, now_ms)
    at = None if wait is None else format_time(now + timedelta(milliseconds=wait))
    return {**(quota_json(current) or {}), "nextRefillAt": at}
