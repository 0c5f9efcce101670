"""What the page shows of keys and audit events: labels, masked values, times people read."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Any

from keyguard.core import Access, AuditEvent, AuditEventType, KeyRecord, KeyStatus

from .event_words import RESTRICTION_EVENT_LABELS, limits_details, restriction_details

__all__ = ["DISPLAY_FILTERS", "EventView", "KeyView", "sentence", "when"]

ACCESS_LABELS = {Access.SECRET: "Secret", Access.PUBLISHABLE: "Publishable"}
_EVENT_LABELS = {
    AuditEventType.CREATED: "Created",
    AuditEventType.RENAMED: "Renamed",
    AuditEventType.REVOKED: "Revoked",
    AuditEventType.DELETED: "Deleted",
    AuditEventType.ROLLED: "Rolled",
    AuditEventType.LEAKED: "Reported leaked",
    **RESTRICTION_EVENT_LABELS,
}
_LEAK_ACTIONS = {"revoked": "revoked at once", "flagged": "left active: revoke it"}


def sentence(message: str) -> str:
    """keyguard's error text (`must be 1-100 characters`) as the page shows it, a sentence."""
    return message[:1].upper() + message[1:] + ("" if message.endswith(".") else ".")


def when(at: datetime | None, never: str = "Never") -> str:
    return never if at is None else at.astimezone(UTC).strftime("%Y-%m-%d %H:%M UTC")


@dataclass(frozen=True, slots=True)
class KeyView:
    """A key as a row or a page header shows it."""

    record: KeyRecord
    status: str  # active, rolling, revoked, expired: also the badge's CSS class
    status_label: str

    @classmethod
    def of(cls, record: KeyRecord, now: datetime) -> KeyView:
        status = record.status(now)
        if status is KeyStatus.ACTIVE and record.replaced_by is not None:
            return cls(record, "rolling", f"Rolling until {when(record.expires_at)}")
        return cls(record, status.value, status.value.capitalize())

    @property
    def masked(self) -> str:
        return f"{self.record.prefix}…{self.record.last4}"

    @property
    def access_label(self) -> str:
        return ACCESS_LABELS[self.record.access]

    @property
    def revoked(self) -> bool:
        return self.record.revoked_at is not None

    @property
    def restricted(self) -> bool:
        """It has permissions or a list of places: the list marks it."""
        return self.record.restricted

    @property
    def limited(self) -> bool:
        """It has rate limits of its own or a quota: the list marks it."""
        return bool(self.record.rate_limits) or self.record.quota is not None

    @property
    def can_roll(self) -> bool:
        return self.status == "active"


@dataclass(frozen=True, slots=True)
class EventView:
    event: AuditEvent

    @property
    def label(self) -> str:
        return _EVENT_LABELS.get(self.event.event, str(self.event.event))

    @property
    def details(self) -> str:
        data = self.event.data
        for words in (restriction_details(self.event), limits_details(self.event)):
            if words is not None:
                return words
        if self.event.event is AuditEventType.RENAMED:
            return f"from “{data.get('from', '')}” to “{data.get('to', '')}”"
        if self.event.event is AuditEventType.ROLLED:
            return f"old key works until {data.get('graceEndsAt', '?')}"
        if self.event.event is AuditEventType.LEAKED:
            done = _LEAK_ACTIONS.get(str(data.get("action")), "nothing done")
            return f"found at {data.get('url') or 'an unknown place'}; {done}"
        if "rolledFrom" in data:
            return "by rolling an older key"
        return ""


DISPLAY_FILTERS: dict[str, Any] = {"when": when}
