"""A key's usage limits as one value: its rate limits and its quota, with the shapes the store,
the shared cache, the API and the audit log write them in, read back checked as on write.

`rate_limits` None means "the settings' default for the key's access and environment" (so a
default changed in the settings reaches every key that kept it); an empty tuple means "no rate
limit", whatever the default. `quota` None means no quota.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, replace
from typing import Any

from ._errors import ValidationError
from ._quotas import Quota, validate_quota
from ._rate_limits import RateLimit, interval_text, parse_interval, validate_rate_limits
from ._records import KeyRecord

__all__ = [
    "UsageLimits",
    "decoded_usage",
    "parse_quota",
    "quota_json",
    "rate_limit_input",
    "rate_limits_json",
    "stored_quota",
]

_QUOTA_FIELDS = frozenset({"remaining", "refillAmount", "refillInterval"})
_STORED = ("remaining", "refillAmount", "refillIntervalMs", "refilledAtMs", "setAtMs")


@dataclass(frozen=True, slots=True)
class UsageLimits:
    rate_limits: tuple[RateLimit, ...] | None = None
    quota: Quota | None = None

    @classmethod
    def of(cls, record: KeyRecord) -> UsageLimits:
        return cls(record.rate_limits, record.quota)

    def as_fields(self) -> dict[str, Any]:
        """The limits as `KeyRecord` keyword arguments."""
        return {"rate_limits": self.rate_limits, "quota": self.quota}

    def as_json(self) -> dict[str, Any]:
        """As the API and the audit log show them."""
        return {"rateLimits": rate_limits_json(self.rate_limits), "quota": quota_json(self.quota)}


def rate_limits_json(limits: Iterable[RateLimit] | None) -> list[dict[str, str]] | None:
    return None if limits is None else [{"limit": lim.text, "name": lim.name} for lim in limits]


def quota_json(quota: Quota | None) -> dict[str, Any] | None:
    """What an operator set: the allowance and its refill (the live count is the limiter's)."""
    if quota is None:
        return None
    interval = quota.refill_interval_ms
    return {
        "remaining": quota.remaining,
        "refillAmount": quota.refill_amount,
        "refillInterval": None if interval is None else _every(interval),
    }


def _every(ms: int) -> str:
    """A refill interval always with its count (`1d`, not the rate grammar's bare `d`)."""
    text = interval_text(ms)
    return text if text[0].isdigit() else f"1{text}"


def parse_quota(value: object, *, now_ms: int, field: str = "quota") -> Quota:
    """A quota as a client sends it: `{"remaining": 1000, "refillAmount": 1000,
    "refillInterval": "1d"}` (the refill optional, both or neither), counted from `now_ms`."""
    if isinstance(value, Quota):
        return replace(value, refilled_at_ms=now_ms, set_at_ms=now_ms)
    if not isinstance(value, Mapping) or not set(value) <= _QUOTA_FIELDS:
        raise ValidationError.single(
            field, "must be {remaining, refillAmount, refillInterval}, e.g. {remaining: 1000}"
        )
    interval = value.get("refillInterval")
    interval_ms: object = interval
    if isinstance(interval, str):
        try:
            interval_ms = parse_interval(interval)
        except ValueError as exc:
            raise ValidationError.single(f"{field}.refillInterval", str(exc)) from None
    elif interval is not None:
        raise ValidationError.single(f"{field}.refillInterval", "must be a duration, e.g. 1d")
    return validate_quota(
        value.get("remaining"), value.get("refillAmount"), interval_ms, now_ms=now_ms, field=field
    )


def stored_quota(quota: Quota | None) -> dict[str, int | None] | None:
    """The quota as the store and the shared cache keep it: every value, times in ms."""
    if quota is None:
        return None
    values = (
        quota.remaining,
        quota.refill_amount,
        quota.refill_interval_ms,
        quota.refilled_at_ms,
        quota.set_at_ms,
    )
    return dict(zip(_STORED, values, strict=True))


def decoded_usage(rate_limits: object, quota: object) -> UsageLimits:
    """Limits read back from a store row or a shared-cache entry, as `rate_limits_json` and
    `stored_quota` wrote them. Anything else raises ValueError: a corrupt record is refused,
    never read as an unlimited key."""
    limits = None
    if rate_limits is not None:
        if type(rate_limits) is not list:
            raise ValueError("malformed rate limits")
        try:
            limits = validate_rate_limits(rate_limits)
        except ValidationError:
            raise ValueError("malformed rate limits") from None
    return UsageLimits(limits, None if quota is None else _decoded_quota(quota))


def _decoded_quota(value: object) -> Quota:
    if type(value) is not dict or set(value) != set(_STORED):
        raise ValueError("malformed quota")
    quota = Quota(*(value[name] for name in _STORED))  # Quota checks every value but this:
    if (quota.refill_interval_ms or 0) % 1000:  # every edge writes it in whole seconds
        raise ValueError("malformed quota")
    return quota


def rate_limit_input(values: object) -> tuple[RateLimit, ...]:
    """A key's rate limits from an API or Python caller: texts, {limit, name}, or RateLimits."""
    if isinstance(values, Iterable) and not isinstance(values, str | bytes | Mapping):
        values = [
            {"limit": v.text, "name": v.name} if isinstance(v, RateLimit) else v for v in values
        ]
    return validate_rate_limits(values)
