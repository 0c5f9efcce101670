"""What a key's activity says about its restrictions: a change to them, and a refusal of the key
used from a place it may not be used from.

A refusal's data is partly what a client sent (its `Origin` header, say), so it is shortened
here and escaped by the template like everything else: never trusted as markup.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from keyguard.core import AuditEvent, AuditEventType, refusal_words, restriction_changes_of

__all__ = ["RESTRICTION_EVENT_LABELS", "restriction_details", "shortened"]

RESTRICTION_EVENT_LABELS = {
    AuditEventType.PERMISSIONS_CHANGED: "Restrictions changed",
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
