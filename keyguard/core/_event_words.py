"""The restriction events of the audit log in words, for every edge that shows them (the CLI's
audit table, the admin page's activity): what a change changed, and where a refused key was
used from. Each edge renders the client's text its own way (escaped for a terminal, cut for a
cell): it passes `place`."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, NamedTuple

from ._records import AuditEvent, AuditEventType

__all__ = ["RestrictionChange", "refusal_words", "restriction_changes_of"]

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
