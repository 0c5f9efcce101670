"""UTC times as the contract writes them: ISO 8601 with a `Z`, millisecond precision."""

from __future__ import annotations

import time
from datetime import UTC, datetime

__all__ = ["format_time", "now_text", "parse_time", "utcnow"]

_second = -1
_second_text = ""


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


def now_text() -> str:
    """`format_time(utcnow())`, cheaply: the text up to the second is made once a second."""
    global _second, _second_text
    now = time.time()
    second = int(now)
    if second != _second:
        _second_text = datetime.fromtimestamp(second, UTC).strftime("%Y-%m-%dT%H:%M:%S")
        _second = second
    return f"{_second_text}.{int((now - second) * 1000):03d}Z"
