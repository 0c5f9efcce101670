"""A key's restrictions in words, for `keys show`, `keys list` and `audit`.

An unrestricted key is said to be so in as many words ("anywhere (no list)"), since "no
permissions listed" could be read as "may do nothing", which is what an empty set means.

The audit log's refusals hold what a client sent (its `Origin` header, say): that text is
shortened and its unprintable characters escaped before it reaches a terminal, where an escape
sequence could rewrite what the operator sees.
"""

from __future__ import annotations

from typing import Any

from keyguard.core import (
    Access,
    AuditEvent,
    AuditEventType,
    KeyRecord,
    refusal_words,
    restriction_changes_of,
)

__all__ = ["audit_words", "limits_marker", "restriction_details", "shown"]

_LONGEST = 120  # characters of client-sent text in one audit row


def restriction_details(record: KeyRecord) -> list[tuple[str, str]]:
    """The `permissions` and `usable from` lines of `keys show`."""
    return [("permissions", _permissions(record)), ("usable from", _usable_from(record))]


def _permissions(record: KeyRecord) -> str:
    if record.permissions is None:
        if record.access is Access.SECRET:
            return "all of a secret key's routes (not restricted)"
        return "the publishable routes (not restricted)"
    if not record.permissions:
        return "none (this key may do nothing)"
    return ", ".join(sorted(record.permissions))


def _usable_from(record: KeyRecord) -> str:
    lists = ((record.allowed_origins, "origins"), (record.allowed_networks, "networks"))
    for places, kind in lists:
        if places is not None:
            return f"{kind} {', '.join(places)}"  # never empty: the core refuses an empty list
    return "anywhere (no list)"


def limits_marker(record: KeyRecord) -> str:
    """The LIMITS column of `keys list`: which restrictions a key carries, `-` for none."""
    limits = [
        word
        for word, value in (
            ("perms", record.permissions),
            ("origins", record.allowed_origins),
            ("networks", record.allowed_networks),
        )
        if value is not None
    ]
    return ",".join(limits) or "-"


def audit_words(event: AuditEvent) -> str | None:
    """The DATA column for the restriction events, or None to show the data as JSON."""
    if event.event is AuditEventType.PERMISSIONS_CHANGED:
        changes = restriction_changes_of(event.data)
        if not changes:
            return None
        return "; ".join(
            f"{c.words}: {_listed(c.before, c.lifted)} -> {_listed(c.after, c.lifted)}"
            for c in changes
        )
    refusal = refusal_words(event, _place)
    return None if refusal is None else f"refused: {refusal}"


def _listed(value: Any, lifted: str) -> str:
    if value is None:
        return lifted
    if not isinstance(value, list) or not value:
        return "none"
    return ", ".join(shown(str(entry)) for entry in value)


def _place(value: Any) -> str:
    return "an unknown place" if value is None else shown(str(value))


def shown(text: str) -> str:
    """Text from outside, safe on a terminal: unprintable characters escaped, then cut."""
    safe = "".join(c if c.isprintable() else c.encode("unicode_escape").decode() for c in text)
    return safe if len(safe) <= _LONGEST else safe[: _LONGEST - 1] + "…"
