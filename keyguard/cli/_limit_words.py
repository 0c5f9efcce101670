"""A key's usage limits in words, for `keys show`, `keys list` and `audit`.

A key without rate limits of its own says which default applies ("default: 1000/s"), since
"none" would hide that the settings limit it; one set to none says "none".
"""

from __future__ import annotations

from datetime import datetime, timedelta

from keyguard.core import (
    AuditEvent,
    AuditEventType,
    KeyRecord,
    RateLimit,
    RateLimitDefaults,
    interval_text,
    limits_changes_of,
    next_refill_ms,
    refilled,
)

__all__ = ["limit_details", "limits_audit_words", "usage_marker"]


def limit_details(
    record: KeyRecord, defaults: RateLimitDefaults, now: datetime
) -> list[tuple[str, str]]:
    """The `rate limits` and `quota` lines of `keys show`."""
    if record.rate_limits is None:
        rates = f"default: {_listed(defaults.for_key(record.access, record.environment))}"
    else:
        rates = _listed(record.rate_limits)
    return [("rate limits", rates), ("quota", _quota(record, now))]


def _listed(limits: tuple[RateLimit, ...]) -> str:
    if not limits:
        return "none"
    return ", ".join(
        lim.text if lim.name == lim.text else f"{lim.text} ({lim.name})" for lim in limits
    )


def _quota(record: KeyRecord, now: datetime) -> str:
    if record.quota is None:
        return "none"
    now_ms = int(now.timestamp() * 1000)
    quota = refilled(record.quota, now_ms)
    words = f"{quota.remaining} left"
    wait = next_refill_ms(quota, now_ms)
    if quota.refill_interval_ms is not None and wait is not None:
        every = interval_text(quota.refill_interval_ms)
        every = f"1{every}" if every[:1].isalpha() else every
        at = (now + timedelta(milliseconds=wait)).strftime("%Y-%m-%dT%H:%M:%SZ")
        words += f", refilled to {quota.refill_amount} every {every} (next {at})"
    return words


def usage_marker(record: KeyRecord) -> list[str]:
    """What the LIMITS column of `keys list` adds: `rate` (its own), `no-rate`, `quota`."""
    words = []
    if record.rate_limits is not None:
        words.append("rate" if record.rate_limits else "no-rate")
    if record.quota is not None:
        words.append("quota")
    return words


def limits_audit_words(event: AuditEvent) -> str | None:
    """The DATA column of an `api_key.limits_changed` row, or None for any other event."""
    if event.event is not AuditEventType.LIMITS_CHANGED:
        return None
    changes = limits_changes_of(event.data)
    if not changes:
        return None
    return "; ".join(
        f"{c.words}: reset to {c.after}" if c.reset else f"{c.words}: {c.before} -> {c.after}"
        for c in changes
    )
