"""UTC times as the contract writes them: ISO 8601 with a `Z`, millisecond precision."""

from __future__ import annotations

from datetime import UTC, datetime

__all__ = ["format_time", "parse_time", "utcnow"]


def utcnow() -> datetime:
    """Now, to the millisecond: what the contract prints is exactly what is stored."""
    now = datetime.now(UTC)
    return now.replace(microsecond=now.microsecond // 1000 * 1000)


def format_time(at: datetime) -> str:
    return at.astimezone(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


def parse_time(text: str) -> datetime:
    """Parse ISO 8601; a time without an offset is taken as UTC. Raises ValueError."""
    at = datetime.fromisoformat(text)
    return at.replace(tzinfo=UTC) if at.tzinfo is None else at.astimezone(UTC)
