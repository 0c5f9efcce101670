"""What a key's activity says about its restrictions and usage limits: a change to them, and a
refusal of the key used from a place it may not be used from.

A refusal's data is partly what a client sent (its `Origin` header, say), so it is shortened
here and escaped by the template like everything else: never trusted as markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keyguard.core import AuditEvent, AuditEventType, refusal_words, restriction_changes_of

__all__ = [
    "RESTRICTION_EVENT_LABELS",
    "interval_words",
    "limits_details",
    "restriction_details",
    "shortened",
]

RESTRICTION_EVENT_LABELS = {
    AuditEventType.PERMISSIONS_CHANGED: "Restrictions changed",
    AuditEventType.LIMITS_CHANGED: "Usage limits changed",
    AuditEventType.REFUSED_ORIGIN: "Refused",
    AuditEventType.REFUSED_NETWORK: "Refused",
    AuditEventType.REFUSED_BROWSER: "Refused",
}
_LONGEST_PLACE = 120
_ENTRIES_SHOWN = 5


def restriction_details(event: AuditEvent) -> str | None:
    """The event in words, or None when it is not about restrictions."""
    if event.event is AuditEventType.PERMISSIONS_CHANGED:
        return _changes(event.data)
    refusal = refusal_words(event, _place)
    if refusal is not None and event.event is AuditEventType.REFUSED_BROWSER:
        return f"{refusal}; secret keys must stay on servers"
    return refusal


def shortened(text: str, longest: int) -> str:
    """Text someone typed or sent, cut to fit a table cell or an error line."""
    return text if len(text) <= longest else text[: longest - 1] + "…"


def interval_words(text: str) -> str:
    """An interval as people read it: the grammar's `d` (a rate's "per day") is `1d` here."""
    return text if text[:1].isdigit() else f"1{text}"


def _place(value: Any) -> str:
    return "an unknown place" if value is None else shortened(str(value), _LONGEST_PLACE)


def _changes(data: Mapping[str, Any]) -> str:
    changes = restriction_changes_of(data) or []
    return "; ".join(
        f"{c.words} from {_listed(c.before, c.lifted)} to {_listed(c.after, c.lifted)}"
        for c in changes
    )


def _listed(value: Any, unlimited: str) -> str:
    if value is None:
        return unlimited
    if not isinstance(value, list) or not value:
        return "none"
    shown = ", ".join(shortened(str(entry), _LONGEST_PLACE) for entry in value[:_ENTRIES_SHOWN])
    more = len(value) - _ENTRIES_SHOWN
    return shown if more <= 0 else f"{shown} and {more} more"


def limits_details(event: AuditEvent) -> str | None:
    """An `api_key.limits_changed` row in words (None for another event, or another shape):
    `rate limits from default to 100/s, 5000/h; quota reset to 1000, refilled to 1000 every 1d`.
    A quota set again as it was is a reset: it says so."""
    before, after = event.data.get("from"), event.data.get("to")
    if event.event is not AuditEventType.LIMITS_CHANGED:
        return None
    if not isinstance(before, Mapping) or not isinstance(after, Mapping):
        return None
    said = []
    if "rateLimits" in after:
        old, new = before.get("rateLimits"), after["rateLimits"]
        said.append(f"rate limits from {_rate_limits(old)} to {_rate_limits(new)}")
    if "quota" in after:
        old, new = before.get("quota"), after["quota"]
        if old == new and new is not None:
            said.append(f"quota reset to {_quota(new)}")
        else:
            said.append(f"quota from {_quota(old)} to {_quota(new)}")
    return "; ".join(said)


def _rate_limits(value: Any) -> str:
    if value is None:
        return "default"
    if not isinstance(value, list) or not value:
        return "none"
    return ", ".join(_rate_limit(entry) for entry in value[:_ENTRIES_SHOWN])


def _rate_limit(entry: Any) -> str:
    if not isinstance(entry, Mapping):
        return shortened(str(entry), _LONGEST_PLACE)
    limit, name = str(entry.get("limit")), entry.get("name")
    shown = limit if name in (None, limit) else f"{limit} ({name})"
    return shortened(shown, _LONGEST_PLACE)


def _quota(value: Any) -> str:
    if not isinstance(value, Mapping):
        return "none"
    shown = str(value.get("remaining"))
    if value.get("refillAmount") is not None:
        every = interval_words(str(value.get("refillInterval")))
        shown += f", refilled to {value.get('refillAmount')} every {every}"
    return shortened(shown, _LONGEST_PLACE)
