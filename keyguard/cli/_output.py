"""How results are shown: JSON in the HTTP API's shapes for scripts, aligned text for people.

The JSON is the management API's view of each record (`keyguard.core`'s views) with the
`account` (and for keys the `owner`) added: the API answers for one account, the CLI for all.

Only `Output.new_key` ever writes a key value, and only to stdout: notes and errors go to
stderr, so `KEY=$(keyguard keys create ...)` captures the value and nothing else.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from datetime import UTC, datetime
from typing import Any, TextIO

from keyguard.core import (
    AuditEvent,
    CreatedKey,
    KeyRecord,
    RateLimitDefaults,
    audit_view,
    created_view,
    detail_view,
    summary_view,
    utcnow,
)

from ._limit_words import limit_details, limits_audit_words, usage_marker
from ._restriction_words import audit_words, limits_marker, restriction_details

__all__ = [
    "AUDIT_COLUMNS",
    "KEY_COLUMNS",
    "Output",
    "audit_json",
    "audit_row",
    "display_time",
    "key_details",
    "key_json",
    "key_row",
    "masked",
]

KEY_COLUMNS = ("ID", "NAME", "KEY", "ENV", "ACCESS", "LIMITS", "STATUS", "CREATED", "LAST USED")
AUDIT_COLUMNS = ("TIME", "EVENT", "ACCOUNT", "KEY", "ACTOR", "DATA")


def key_json(
    record: KeyRecord, defaults: RateLimitDefaults, *, detail: bool = True
) -> dict[str, Any]:
    view = (detail_view if detail else summary_view)(record, utcnow(), defaults)
    return {**view, **_whose(record)}


def audit_json(event: AuditEvent) -> dict[str, Any]:
    return {**audit_view(event), "account": event.account}


def _whose(record: KeyRecord) -> dict[str, Any]:
    return {"account": record.account, "owner": record.owner}


class Output:
    def __init__(self, stdout: TextIO, stderr: TextIO) -> None:
        self._stdout = stdout
        self._stderr = stderr

    def line(self, text: str) -> None:
        print(text, file=self._stdout, flush=True)

    def note(self, text: str) -> None:
        print(text, file=self._stderr)

    def json(self, data: Any) -> None:
        self.line(json.dumps(data, indent=2, ensure_ascii=False))

    def new_key(self, created: CreatedKey, as_json: bool, defaults: RateLimitDefaults) -> None:
        """The one place a key value is written."""
        if as_json:
            self.json({**created_view(created, utcnow(), defaults), **_whose(created.record)})
        else:
            self.line(created.value)
        self.note("Store the key now: it will not be shown again.")

    def table(self, headers: Sequence[str], rows: Sequence[Sequence[str]]) -> None:
        widths = [max([len(h), *(len(row[i]) for row in rows)]) for i, h in enumerate(headers)]
        for row in (headers, *rows):
            self.line("  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip())

    def fields(self, pairs: Sequence[tuple[str, str]]) -> None:
        width = max(len(label) for label, _ in pairs)
        for label, value in pairs:
            self.line(f"{label.ljust(width)}  {value}")


def masked(record: KeyRecord) -> str:
    return f"{record.prefix}…{record.last4}"


def display_time(at: datetime | None, absent: str = "-") -> str:
    return absent if at is None else at.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")


def key_row(record: KeyRecord, now: datetime) -> tuple[str, ...]:
    return (
        record.id,
        record.name,
        masked(record),
        record.environment,
        record.access.value,
        ",".join(w for w in (limits_marker(record), *usage_marker(record)) if w != "-") or "-",
        record.status(now).value,
        display_time(record.created_at),
        display_time(record.last_used_at, "never"),
    )


def key_details(
    record: KeyRecord, now: datetime, defaults: RateLimitDefaults
) -> list[tuple[str, str]]:
    pairs = [
        ("id", record.id),
        ("name", record.name),
        ("key", masked(record)),
        ("account", record.account),
        ("owner", record.owner or "-"),
        ("environment", record.environment),
        ("access", record.access.value),
        *restriction_details(record),
        *limit_details(record, defaults, now),
        ("status", record.status(now).value),
        ("created", display_time(record.created_at)),
        ("last used", display_time(record.last_used_at, "never")),
        ("revoked", display_time(record.revoked_at)),
        ("expires", display_time(record.expires_at)),
        ("replaced by", record.replaced_by or "-"),
    ]
    if record.metadata:
        pairs.append(("metadata", json.dumps(dict(record.metadata), ensure_ascii=False)))
    return pairs


def audit_row(event: AuditEvent) -> tuple[str, ...]:
    data = (
        audit_words(event)
        or limits_audit_words(event)
        or json.dumps(dict(event.data), ensure_ascii=False, separators=(",", ":"))
    )
    return (
        display_time(event.occurred_at),
        event.event.value,
        event.account,
        event.key_id or "-",
        event.actor,
        data,
    )
