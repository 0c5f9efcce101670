"""A key's restrictions on the page: read from the forms that set them (one field for the
permissions, one list of places per key type), the manager's errors put beside those fields, and
what the page says about a key's restrictions in words.

An empty field means "not restricted", as the API's null does. A key that may do nothing (an
empty permission set) is chosen with its own checkbox: an empty field cannot mean both.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from keyguard.core import Access, FieldIssue, KeyRecord, ValidationError, redact_keys

from .display import sentence
from .event_words import shortened

__all__ = ["RestrictionsForm", "RestrictionsView", "entries"]

_SEPARATORS = re.compile(r"[\s,]+")
_TEXT_FIELDS = ("permissions", "origins", "networks")
# The manager's field names, as the forms name them.
_FORM_FIELD = {
    "permissions": "permissions",
    "allowedOrigins": "origins",
    "allowedNetworks": "networks",
}
_ISSUE = re.compile(r"([A-Za-z]+)(?:\[(\d+)\])?")
_ISSUES_SHOWN = 3
_LONGEST_ECHO = 60
_NOUNS = {Access.PUBLISHABLE: "origins", Access.SECRET: "networks"}


def entries(text: str) -> list[str]:
    """A field's entries: separated by spaces, commas or new lines (none of the grammars has
    either), blanks dropped."""
    return [entry for entry in _SEPARATORS.split(text) if entry]


@dataclass(frozen=True, slots=True)
class RestrictionsForm:
    """The restriction fields of a form, as typed: shown again, as typed, beside any error."""

    values: Mapping[str, str]

    @classmethod
    def read(cls, form: FormData) -> RestrictionsForm:
        values = {name: str(form.get(name, "")) for name in _TEXT_FIELDS}
        return cls({**values, "nothing": "on" if form.get("nothing") else ""})

    @classmethod
    def of(cls, record: KeyRecord) -> RestrictionsForm:
        """The key's restrictions as its change form starts: one entry a line."""
        permissions = record.permissions
        return cls(
            {
                "permissions": "\n".join(sorted(permissions or ())),
                "nothing": "on" if permissions == frozenset() else "",
                "origins": "\n".join(record.allowed_origins or ()),
                "networks": "\n".join(record.allowed_networks or ()),
            }
        )

    def conflicts(self) -> dict[str, str]:
        """What the manager cannot be asked: permissions listed and "may do nothing" at once."""
        if self.values["nothing"] and entries(self.values["permissions"]):
            return {"permissions": "List permissions or choose “May do nothing”, not both."}
        return {}

    @property
    def permissions(self) -> list[str] | None:
        if self.values["nothing"]:
            return []
        return entries(self.values["permissions"]) or None

    def places(self, field: str) -> list[str] | None:
        return entries(self.values[field]) or None

    def for_create(self) -> dict[str, Any]:
        """`KeyManager.create`'s arguments. Both lists go, whatever the type: a list typed for
        the other type is the manager's error to show, never silently dropped."""
        return {
            "permissions": self.permissions,
            "allowed_origins": self.places("origins"),
            "allowed_networks": self.places("networks"),
        }

    def for_restrict(self, access: Access) -> dict[str, Any]:
        """`KeyManager.restrict`'s arguments: the permissions, and the one list of places that
        a key of this type has (its form shows no other)."""
        if access is Access.PUBLISHABLE:
            return {"permissions": self.permissions, "allowed_origins": self.places("origins")}
        return {"permissions": self.permissions, "allowed_networks": self.places("networks")}

    def errors(self, exc: ValidationError, others: Mapping[str, str]) -> dict[str, str]:
        """Each issue beside its field: an entry's issue names the entry as it was typed.
        `others` names the form fields of the manager's other fields (`name` -> `label`)."""
        found: dict[str, list[str]] = {}
        for issue in exc.issues:
            field, message = self._placed(issue, others)
            found.setdefault(field, []).append(message)
        return {field: _joined(messages) for field, messages in found.items()}

    def _placed(self, issue: FieldIssue, others: Mapping[str, str]) -> tuple[str, str]:
        match = _ISSUE.fullmatch(issue.field)
        name, index = (match.group(1), match.group(2)) if match else (issue.field, None)
        field = _FORM_FIELD.get(name)
        if field is None:
            return others.get(issue.field, issue.field), sentence(issue.message)
        if index is None:
            return field, sentence(f"this list {issue.message}")
        typed = entries(self.values[field])
        entry = typed[int(index)] if int(index) < len(typed) else "?"
        # A key pasted into the wrong field is not repeated back in words: its prefix…last4.
        shown = shortened(redact_keys(entry), _LONGEST_ECHO)
        return field, sentence(f"“{shown}”: {issue.message}")


def _joined(messages: Sequence[str]) -> str:
    shown = " ".join(messages[:_ISSUES_SHOWN])
    more = len(messages) - _ISSUES_SHOWN
    return shown if more <= 0 else f"{shown} And {more} more."


@dataclass(frozen=True, slots=True)
class RestrictionsView:
    """A key's restrictions as its page and the one-time dialog say them."""

    record: KeyRecord

    @property
    def permissions(self) -> list[str] | None:
        granted = self.record.permissions
        return None if granted is None else sorted(granted)

    @property
    def places_noun(self) -> str:
        """What the key's list of places holds: origins (publishable) or networks (secret)."""
        return _NOUNS[self.record.access]

    @property
    def places(self) -> tuple[str, ...] | None:
        if self.record.access is Access.PUBLISHABLE:
            return self.record.allowed_origins
        return self.record.allowed_networks
