"""A key's usage limits on the page's forms: its rate limits as text ("100/s, 5000/h"), or the
settings' default, or none; its quota as the requests it may still make, with an optional
refill. Read from the forms, handed to the manager, and its errors put beside their fields.

Saving the key's form sends the quota only when a person changed what the form showed: the
manager sets a quota given to it anew (that is how one is reset), and saving a rate limit must
not start a quota over. The "Reset quota" button is the one way to do that on purpose.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from starlette.datastructures import FormData

from keyguard.core import (
    UNCHANGED,
    FieldIssue,
    KeyRecord,
    Quota,
    RateLimit,
    interval_text,
    redact_keys,
    refilled,
)

from .display import sentence
from .event_words import interval_words, shortened

__all__ = ["RATE_MODES", "UsageForm", "is_usage_issue", "limit_text", "rate_limit_entries"]

# How a key is rate limited: the settings' default for its type, its own list, or not at all.
RATE_MODES = ("default", "own", "none")
_QUOTA_TEXTS = ("quota", "refill_amount", "refill_interval")
_TEXT_FIELDS = ("rate_limits", *_QUOTA_TEXTS, "quota_was")
_SEPARATORS = re.compile(r"[\s,]+")
_DIGIT_GROUPS = re.compile(r"[\s,_]")
_ISSUE = re.compile(r"rateLimits\[(\d+)\]")
# The manager's quota fields, as the forms name them.
_QUOTA_FIELD = {
    "quota": "quota",
    "quota.remaining": "quota",
    "quota.refill": "refill_amount",
    "quota.refillAmount": "refill_amount",
    "quota.refillInterval": "refill_interval",
}
_BOTH = "Give a refill amount and an interval, or neither."
_WHOLE = "Must be a whole number, e.g. 1000."
_LONGEST_ECHO = 60
_ISSUES_SHOWN = 3


def rate_limit_entries(text: str) -> list[str]:
    """A list's entries: separated by spaces, commas or new lines (the grammar has none)."""
    return [entry for entry in _SEPARATORS.split(text) if entry]


def limit_text(limit: RateLimit) -> str:
    """A limit as the form writes it: `100/s`, or `burst=100/s` when it has a name of its own."""
    return limit.text if limit.name == limit.text else f"{limit.name}={limit.text}"


def is_usage_issue(issue: FieldIssue) -> bool:
    """Whether the manager's issue is about a usage limit (else about a restriction, a label)."""
    return issue.field.startswith(("rateLimits", "quota"))


@dataclass(frozen=True, slots=True)
class UsageForm:
    """The usage-limit fields of a form, as typed: shown again, as typed, beside any error."""

    values: Mapping[str, str]

    @classmethod
    def read(cls, form: FormData) -> UsageForm:
        values = {name: str(form.get(name, "")) for name in _TEXT_FIELDS}
        return cls({**values, "rate_mode": str(form.get("rate_mode", "default"))})

    @classmethod
    def empty(cls) -> UsageForm:
        return cls({**dict.fromkeys(_TEXT_FIELDS, ""), "rate_mode": "default"})

    @classmethod
    def of(cls, record: KeyRecord, now_ms: int) -> UsageForm:
        """The key's limits as its change form starts: one rate limit a line."""
        limits = record.rate_limits
        mode = "default" if limits is None else "own" if limits else "none"
        quota = _quota_texts(None if record.quota is None else refilled(record.quota, now_ms))
        values = dict(zip(_QUOTA_TEXTS, quota, strict=True))
        return cls(
            {
                "rate_mode": mode,
                "rate_limits": "\n".join(limit_text(lim) for lim in limits or ()),
                **values,
                "quota_was": "|".join(quota),
            }
        )

    def conflicts(self) -> dict[str, str]:
        """What the manager cannot be asked: a choice and a list that disagree, numbers that
        are not numbers, a refill of no quota."""
        errors = {}
        mode, listed = self.values["rate_mode"], rate_limit_entries(self.values["rate_limits"])
        if mode not in RATE_MODES:
            errors["rate_limits"] = "Choose how this key is rate limited."
        elif mode == "own" and not listed:
            errors["rate_limits"] = "List at least one rate limit, e.g. 100/s, or choose another."
        elif mode != "own" and listed:
            errors["rate_limits"] = "Choose “These limits” to use the limits listed, or clear them."
        for field in ("quota", "refill_amount"):
            if _whole(self.values[field]) is _NOT_WHOLE:
                errors[field] = _WHOLE
        refill = self.values["refill_amount"].strip() or self.values["refill_interval"].strip()
        if "quota" not in errors and not self.values["quota"].strip() and refill:
            errors["quota"] = "Give the number of requests, or clear the refill too."
        return errors

    @property
    def rate_limits(self) -> list[object] | None:
        """The manager's `rate_limits`: None for the default, [] for none."""
        mode = self.values["rate_mode"]
        if mode == "default":
            return None
        if mode == "none":
            return []
        return [_entry(text) for text in rate_limit_entries(self.values["rate_limits"])]

    @property
    def quota(self) -> dict[str, Any] | None:
        """The manager's `quota`, as a client sends it: None for no quota."""
        remaining = _whole(self.values["quota"])
        if remaining is None:
            return None
        amount = _whole(self.values["refill_amount"])
        interval = self.values["refill_interval"].strip()
        return {"remaining": remaining, "refillAmount": amount, "refillInterval": interval or None}

    def for_create(self) -> dict[str, Any]:
        return {"rate_limits": self.rate_limits, "quota": self.quota}

    def for_limit(self) -> dict[str, Any]:
        """`KeyManager.limit`'s arguments: the quota only if the person changed it."""
        typed = (
            self.values[name].strip() for name in ("quota", "refill_amount", "refill_interval")
        )
        changed = "|".join(typed) != self.values["quota_was"]
        return {"rate_limits": self.rate_limits, "quota": self.quota if changed else UNCHANGED}

    def errors(self, issues: Iterable[FieldIssue]) -> dict[str, str]:
        """Each issue beside its field: a rate limit's names the entry as it was typed."""
        found: dict[str, list[str]] = {}
        for issue in issues:
            field, message = self._placed(issue)
            found.setdefault(field, []).append(message)
        return {field: _joined(messages) for field, messages in found.items()}

    def _placed(self, issue: FieldIssue) -> tuple[str, str]:
        if issue.field == "quota.refill":
            return "refill_amount", _BOTH
        if issue.field in _QUOTA_FIELD:
            return _QUOTA_FIELD[issue.field], sentence(issue.message)
        match = _ISSUE.fullmatch(issue.field)
        if match is None:
            return "rate_limits", sentence(f"this list {issue.message}")
        typed = rate_limit_entries(self.values["rate_limits"])
        index = int(match.group(1))
        entry = typed[index] if index < len(typed) else "?"
        # A key pasted into the wrong field is not repeated back in words: its prefix…last4.
        shown = shortened(redact_keys(entry), _LONGEST_ECHO)
        return "rate_limits", sentence(f"“{shown}”: {issue.message}")


class _NotWhole:
    """A number field holding something else (None is an empty field)."""


_NOT_WHOLE = _NotWhole()


def _whole(text: str) -> int | _NotWhole | None:
    """A count as people type it: `1000`, `1,000`, `1 000` or `1_000`."""
    digits = _DIGIT_GROUPS.sub("", text)
    if not digits:
        return None
    if not digits.isascii() or not digits.isdigit() or len(digits) > 18:
        return _NOT_WHOLE
    return int(digits)


def _entry(text: str) -> object:
    """`100/s`, or `burst=100/s` for a limit with a name of its own."""
    name, equals, limit = text.partition("=")
    return {"limit": limit, "name": name} if equals else text


def _quota_texts(quota: Quota | None) -> tuple[str, str, str]:
    if quota is None:
        return "", "", ""
    if quota.refill_amount is None or quota.refill_interval_ms is None:
        return str(quota.remaining), "", ""
    return (
        str(quota.remaining),
        str(quota.refill_amount),
        interval_words(interval_text(quota.refill_interval_ms)),
    )


def _joined(messages: list[str]) -> str:
    shown = " ".join(messages[:_ISSUES_SHOWN])
    more = len(messages) - _ISSUES_SHOWN
    return shown if more <= 0 else f"{shown} And {more} more."
