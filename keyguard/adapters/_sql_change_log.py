"""The change log over SQL, shared by SQLite and PostgreSQL: appended to inside the changing
transaction, read by every process from the last `seq` it saw, pruned by age.

`seq` order must be commit order, or a reader could pass over a change that commits after a
later one: each dialect's `append_change` serializes appends until their commit (PostgreSQL
with a transaction-scoped advisory lock, SQLite by its single writer).
"""

from __future__ import annotations

import abc
from collections.abc import Sequence
from contextlib import AbstractAsyncContextManager
from datetime import datetime
from typing import Any

from keyguard.ports import StoreChange

from ._sql_shapes import CHANGE_COLUMNS, Row, Runner

__all__ = ["SqlChangeLog"]


_PRUNE_BATCH = 5000  # rows a statement deletes: each stays well within the store's timeout


class SqlChangeLog(abc.ABC):
    """Times in the log are the store's own (`store_now`): hosts whose clocks disagree still
    agree on what is recent, and on what may be pruned."""

    @abc.abstractmethod
    def _session(self) -> AbstractAsyncContextManager[Runner]:
        """One connection in autocommit: each statement (read or write) commits alone."""

    @abc.abstractmethod
    def ago(self, placeholder: str, seconds: float) -> tuple[str, Any]:
        """SQL for "the store's now, less `seconds`", and the argument for `placeholder`."""

    @abc.abstractmethod
    def decode_time(self, value: Any) -> datetime | None:
        """A time as this dialect stores it, read back."""

    @abc.abstractmethod
    async def append_change(self, runner: Runner, key_id: str, digest: bytes, event: str) -> int:
        """Insert the change (last in its transaction), set the key's version; the new `seq`."""

    async def read_changes(
        self, after: int, *, within: float | None = None, limit: int = 1000
    ) -> Sequence[StoreChange]:
        sql = f"SELECT {CHANGE_COLUMNS} FROM keyguard_changes WHERE seq > $1"
        args: list[Any] = [after]
        if within is not None:
            cutoff, arg = self.ago("$2", within)
            sql += f" AND occurred_at >= {cutoff}"
            args.append(arg)
        sql += f" ORDER BY seq LIMIT {int(limit)}"
        async with self._session() as runner:
            rows = await runner.fetch(sql, *args)
        return [self._change(row) for row in rows]

    async def last_change(self) -> int:
        async with self._session() as runner:
            rows = await runner.fetch("SELECT coalesce(max(seq), 0) AS seq FROM keyguard_changes")
        return int(rows[0]["seq"])

    async def prune_changes(self, older_than: float) -> int:
        cutoff, arg = self.ago("$1", older_than)
        sql = (
            "DELETE FROM keyguard_changes WHERE seq IN (SELECT seq FROM keyguard_changes"
            f" WHERE occurred_at < {cutoff} ORDER BY seq LIMIT {_PRUNE_BATCH}) RETURNING seq"
        )
        pruned = 0
        while True:
            async with self._session() as runner:
                rows = await runner.fetch(sql, arg)
            pruned += len(rows)
            if len(rows) < _PRUNE_BATCH:
                return pruned

    def _change(self, row: Row) -> StoreChange:
        at = self.decode_time(row["occurred_at"])
        return StoreChange(
            int(row["seq"]),
            row["key_id"],
            bytes(row["digest"]),
            row["event"],
            None if at is None else at.timestamp(),
        )
