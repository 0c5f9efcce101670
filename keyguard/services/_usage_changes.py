"""What the lifecycle does with a key's usage limits: set them on a new key, change them on an
existing one (a quota given again is a reset: its count starts over everywhere)."""

from __future__ import annotations

import dataclasses
from datetime import datetime
from typing import Any

from keyguard.core import (
    UNCHANGED,
    ConflictError,
    KeyRecord,
    Quota,
    Unchanged,
    UsageLimits,
    parse_quota,
    rate_limit_input,
)

from ._key_writer import Change

__all__ = ["QuotaInput", "RateLimitsInput", "limits_change", "new_key_limits"]

RateLimitsInput = object  # texts, {"limit", "name"} mappings or RateLimits; None: the default
QuotaInput = object  # a Quota or {"remaining", "refillAmount", "refillInterval"}; None: none


def _ms(at: datetime) -> int:
    return int(at.timestamp() * 1000)


def new_key_limits(rate_limits: RateLimitsInput, quota: QuotaInput, now: datetime) -> UsageLimits:
    return UsageLimits(
        None if rate_limits is None else rate_limit_input(rate_limits),
        None if quota is None else parse_quota(quota, now_ms=_ms(now)),
    )


def limits_change(
    rate_limits: RateLimitsInput | Unchanged, quota: QuotaInput | Unchanged
) -> Change:
    """The change `KeyManager.limit` applies. A quota given is set anew (counted from now,
    its `set_at_ms` past every earlier one, so every counter of the old setting is dropped),
    even when it equals the old one: that is how an operator resets a quota."""
    limits = None if rate_limits in (None, UNCHANGED) else rate_limit_input(rate_limits)

    def apply(old: KeyRecord, now: datetime) -> tuple[KeyRecord, dict[str, Any]] | None:
        if old.revoked_at is not None:
            raise ConflictError("a revoked key's limits cannot change")
        new = UsageLimits(
            old.rate_limits if rate_limits is UNCHANGED else limits,
            old.quota if quota is UNCHANGED else _set_quota(old.quota, quota, now),
        )
        before, after = UsageLimits.of(old).as_json(), new.as_json()
        changed = [f for f in after if after[f] != before[f] or (f == "quota" and _reset(quota))]
        if not changed:
            return None
        data = {"from": {f: before[f] for f in changed}, "to": {f: after[f] for f in changed}}
        return dataclasses.replace(old, **new.as_fields()), data

    return apply


def _reset(quota: QuotaInput | Unchanged) -> bool:
    return quota is not UNCHANGED and quota is not None


def _set_quota(old: Quota | None, quota: QuotaInput, now: datetime) -> Quota | None:
    if quota is None:
        return None
    new = parse_quota(quota, now_ms=_ms(now))
    if old is not None and new.set_at_ms <= old.set_at_ms:  # two resets in one ms, or a clock
        later = old.set_at_ms + 1  # gone back: still a new setting
        new = dataclasses.replace(
            new, set_at_ms=later, refilled_at_ms=max(later, new.refilled_at_ms)
        )
    return new
