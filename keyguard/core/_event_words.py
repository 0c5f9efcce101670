"""The restriction and usage-limit events of the audit log in words, for every edge that shows
them (the CLI's audit table, the admin page's activity): what a change changed, and where a
refused key was used from. Each edge renders the client's text its own way (escaped for a
terminal, cut for a cell): it passes `place`. Limits are the server's own canonical text
(`100/s`, a name of letters, digits and `_./-`), so they come in words ready to show."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ._records import AuditEvent, AuditEventType

__all__ = [
    "LimitsChange",
    "RestrictionChange",
    "limits_changes_of",
    "refusal_words",
    "restriction_changes_of",
]

# A field of `api_key.permissions_changed`: its name in words, and what its null means.
_CHANGED = (
    ("permissions", "permissions", "not restricted"),
    ("allowedOrigins", "allowed origins", "anywhere"),
    ("allowedNetworks", "allowed networks", "anywhere"),
)


class RestrictionChange(NamedTuple):
    words: str  # "allowed origins"
    before: Any  # as the audit row holds it: a list, or None
    after: Any
    lifted: str  # what None means for this field: "anywhere", "not restricted"


def restriction_changes_of(data: Mapping[str, Any]) -> list[RestrictionChange] | None:
    """The fields an `api_key.permissions_changed` row changed; None for a row of another shape."""
    before, after = data.get("from"), data.get("to")
    if not isinstance(before, Mapping) or not isinstance(after, Mapping):
        return None
    return [
        RestrictionChange(words, before.get(field), after[field], lifted)
        for field, words, lifted in _CHANGED
        if field in after
    ]


class LimitsChange(NamedTuple):
    words: str  # "rate limits", "quota"
    before: str  # in words: "100/s, 5000/h", "the default", "none", "1000 left, ..."
    after: str
    reset: bool  # a quota set again as it was: its count starts over


def limits_changes_of(data: Mapping[str, Any]) -> list[LimitsChange] | None:
    """The fields an `api_key.limits_changed` row changed; None for a row of another shape."""
    before, after = data.get("from"), data.get("to")
    if not isinstance(before, Mapping) or not isinstance(after, Mapping):
        return None
    changes = []
    if "rateLimits" in after:
        old, new = _rate_limits(before.get("rateLimits")), _rate_limits(after["rateLimits"])
        changes.append(LimitsChange("rate limits", old, new, False))
    if "quota" in after:
        set_before, set_after = before.get("quota"), after["quota"]
        reset = set_after is not None and set_before == set_after
        changes.append(LimitsChange("quota", _quota(set_before), _quota(set_after), reset))
    return changes


def _rate_limits(value: Any) -> str:
    if value is None:
        return "the default"
    if not isinstance(value, list) or not value:
        return "none"
    return ", ".join(_rate_limit(entry) for entry in value)


def _rate_limit(entry: Any) -> str:
    if not isinstance(entry, Mapping):
        return "?"
    limit, name = str(entry.get("limit")), entry.get("name")
    return limit if name in (None, limit) else f"{limit} ({name})"


def _quota(value: Any) -> str:
    if not isinstance(value, Mapping):
        return "none"
    words = f"{value.get('remaining')} left"
    if value.get("refillInterval") is not None:
        words += f", refilled to {value.get('refillAmount')} {_every(value['refillInterval'])}"
    return words


def _every(interval: Any) -> str:
    """`every 1d` for the interval text `d` (the canonical text leaves a 1 out)."""
    text = str(interval)
    return f"every {'1' if text[:1].isalpha() else ''}{text}"


def refusal_words(event: AuditEvent, place: Callable[[Any], str]) -> str | None:
    """Where a refused key was used from, or None for an event that is not a refusal."""
    data = event.data
    if event.event is AuditEventType.REFUSED_ORIGIN:
        return f"used from {place(data.get('origin'))}, not an allowed origin"
    if event.event is AuditEventType.REFUSED_NETWORK:
        return f"used from {place(data.get('client'))}, not an allowed network"
    if event.event is AuditEventType.REFUSED_BROWSER:
        signal = data.get("signal")
        return "a secret key sent from a browser" + (
            f" (it sent {place(signal)})" if signal else ""
        )
    return None
