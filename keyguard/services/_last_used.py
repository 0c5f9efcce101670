"""Last-used times, gathered in memory on the hot path and written in batches.

A request costs one dict assignment; the store sees one statement per interval, and a final
one on a clean stop. A failed write keeps the times for the next try.
"""

from __future__ import annotations

import logging
import time
from datetime import UTC, datetime

from keyguard.core import KeyguardError
from keyguard.ports import KeyStore, Observer

from ._periodic import PeriodicFlush, Written

__all__ = ["LastUsedRecorder"]

logger = logging.getLogger(__name__)


class LastUsedRecorder(PeriodicFlush):
    task_name = "keyguard-last-used"
    kind = "last_used"

    def __init__(
        self, store: KeyStore, *, interval: float = 5.0, observer: Observer | None = None
    ) -> None:
        super().__init__(interval=interval, observer=observer)
        self.store = store
        # Never replaced, only cleared: the verifier writes to it directly on every hit.
        self.pending_times: dict[str, float] = {}

    def touch(self, key_id: str, now: float | None = None) -> None:
        self.pending_times[key_id] = time.time() if now is None else now

    @property
    def pending(self) -> int:
        return len(self.pending_times)

    async def write(self) -> Written | None:
        if not self.pending_times:
            return None
        batch = dict(self.pending_times)
        self.pending_times.clear()
        pairs = [(k, datetime.fromtimestamp(t, UTC)) for k, t in batch.items()]
        try:
            await self.store.record_last_used(pairs)
        except Exception as exc:
            # Kept for the next try whatever the failure: losing them, or the flushing task
            # dying, would be worse than a retry.
            logger.warning("could not write %d last-used times: %s", len(pairs), _describe(exc))
            for key_id, at in batch.items():  # keep the newest for the next try
                if at > self.pending_times.get(key_id, 0.0):
                    self.pending_times[key_id] = at
            return None
        return Written(len(pairs), min(batch.values()))


def _describe(exc: Exception) -> str:
    return str(exc) if isinstance(exc, KeyguardError) else type(exc).__name__
