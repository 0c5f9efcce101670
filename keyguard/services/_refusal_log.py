"""Valid keys used from the wrong place (an origin, a network or a browser they are not allowed
in), in the audit log so that owners see the misuse: the first refusal per key and kind in an
hour, across every process (the store is asked whether one was logged already), and at most one
store round trip per key and kind an hour in each process.

Noting a refusal never waits for the store: the write runs in the background, and a store that
cannot take it costs a warning, never the refusal itself.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable, Mapping
from datetime import datetime, timedelta
from typing import Any

from keyguard.core import AuditEventType, KeyguardError, KeyRecord, utcnow
from keyguard.ports import KeyStore

from ._key_changes import Act, audit_event

__all__ = ["REFUSAL_ACTOR", "REFUSAL_EVENTS", "RefusalLog"]

logger = logging.getLogger(__name__)
REFUSAL_ACTOR = "keyguard"  # the middleware refused; the key is the event's key_id
REFUSAL_EVENTS = frozenset(
    {
        AuditEventType.REFUSED_ORIGIN,
        AuditEventType.REFUSED_NETWORK,
        AuditEventType.REFUSED_BROWSER,
    }
)
_MAX_REMEMBERED = 10_000
_RETRY_AFTER = 60.0  # seconds before a refusal that could not be logged is tried again
_MAX_PENDING = 100  # a flood of refusals of many keys writes no more than this at once


class RefusalLog:
    def __init__(
        self,
        store: KeyStore,
        *,
        every: timedelta = timedelta(hours=1),
        clock: Callable[[], datetime] = utcnow,
        monotonic: Callable[[], float] = time.monotonic,
    ) -> None:
        self.store = store
        self.every = every
        self._clock = clock
        self._monotonic = monotonic
        self._noted: dict[tuple[str, AuditEventType], float] = {}
        self._pending: set[asyncio.Task[bool]] = set()

    def note(
        self,
        record: KeyRecord,
        event: AuditEventType,
        data: Mapping[str, Any],
        request_id: str | None,
    ) -> None:
        """Log the refusal if it is the key's first of this kind in `every`. Never blocks."""
        if event not in REFUSAL_EVENTS:
            raise ValueError(f"{event.value} is not a refusal")
        now = self._monotonic()
        seen = self._noted.get((record.id, event))
        if seen is not None and now - seen < self.every.total_seconds():
            return
        if len(self._pending) >= _MAX_PENDING:
            return  # not remembered: a later refusal tries again
        if len(self._noted) >= _MAX_REMEMBERED:
            self._noted.clear()
        self._noted[(record.id, event)] = now
        task = asyncio.get_running_loop().create_task(
            self.write(record, event, dict(data), request_id)
        )
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def write(
        self, record: KeyRecord, event: AuditEventType, data: dict[str, Any], request_id: str | None
    ) -> bool:
        """The audit row, unless one of the kind was logged for the key within `every`."""
        now = self._clock()
        try:
            async with self.store.transaction(record.account) as tx:
                if await tx.audited_since(record.id, event.value, now - self.every):
                    return False
                act = Act(REFUSAL_ACTOR, request_id, now)
                await tx.insert_audit(audit_event(event, record, act, data))
        except KeyguardError as exc:
            # Not logged: a refusal after `retry` tries again, not each one of a flood at a
            # store that is already in trouble.
            wait = self.every.total_seconds() - _RETRY_AFTER
            self._noted[(record.id, event)] = self._monotonic() - wait
            logger.warning("could not log %s of %s: %s", event.value, record.id, exc)
            return False
        return True

    async def drain(self) -> None:
        """Wait for the writes under way (a test's, or a shutdown's last look)."""
        if self._pending:
            await asyncio.gather(*list(self._pending), return_exceptions=True)

    async def stop(self) -> None:
        for task in list(self._pending):
            task.cancel()
        await self.drain()
