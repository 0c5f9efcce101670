"""What the SQL adapters share: a row, a runner (one connection or one open transaction on
it), and the column lists their queries read and write."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any, Protocol

__all__ = ["AUDIT_COLUMNS", "CHANGE_COLUMNS", "KEY_COLUMNS", "Row", "Runner"]

Row = Mapping[str, Any]
KEY_COLUMNS = (
    "id, account, owner, name, environment, access, prefix, last4, metadata,"
    " created_at, last_used_at, revoked_at, expires_at, replaced_by, version,"
    " permissions, allowed_origins, allowed_networks, rate_limits, quota, counted_as"
)
CHANGE_COLUMNS = "seq, key_id, digest, event, occurred_at"
AUDIT_COLUMNS = "id, account, event, key_id, actor, request_id, occurred_at, data, environment"


class Runner(Protocol):
    """One connection, or one open transaction on it."""

    async def fetch(self, sql: str, *args: Any) -> list[Row]: ...

    async def execute(self, sql: str, *args: Any) -> None: ...
