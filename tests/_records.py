"""Key records for tests that need one without a store: a live secret key, fields overridable."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

from keyguard import Access, KeyRecord

__all__ = ["a_record"]


def a_record(**overrides: Any) -> KeyRecord:
    fields: dict[str, Any] = {
        "id": "key_1",
        "name": "n",
        "account": "a",
        "owner": None,
        "environment": "live",
        "access": Access.SECRET,
        "prefix": "sk_live_",
        "last4": "abcd",
        "created_at": datetime(2026, 1, 1, tzinfo=UTC),
    }
    fields.update(overrides)
    return KeyRecord(**fields)
