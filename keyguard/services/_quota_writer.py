"""What the usage counters saw of keys' quotas, written back to the store in batches.

The live count of a quota is the counter's (Redis, or this process); the store keeps a copy a
few seconds behind, so that a person (the management API, the CLI, the admin page) sees about
what is left, and so that a counter that lost its state (a Redis restarted without its data, a
process started afresh) starts from that copy and not from the allowance as first set. The
store takes a report only forward and only under the same setting (`record_quota_usage`), so
processes reporting out of order cannot give a key back what it spent.

A request costs one dict assignment; the store sees one transaction per interval and a last one
on a clean stop. A failed write keeps the reports for the next try.
"""

from __future__ import annotations

import logging
import time

from keyguard.core import KeyguardError, Quota
from keyguard.ports import KeyStore, Observer

from ._periodic import PeriodicFlush, Written

__all__ = ["QuotaWriter"]

logger = logging.getLogger(__name__)


class QuotaWriter(PeriodicFlush):
    task_name = "keyguard-quota-writer"
    kind = "quota"

    def __init__(
        self, store: KeyStore, *, interval: float = 5.0, observer: Observer | None = None
    ) -> None:
        super().__init__(interval=interval, observer=observer)
        self.store = store
        self.pending: dict[str, Quota] = {}
        self._first_noted = 0.0  # when the oldest pending report came (Unix seconds)

    def note(self, key_id: str, quota: Quota) -> None:
        if not self.pending:
            self._first_noted = time.time()
        self.pending[key_id] = quota  # the newest report of this process wins here

    async def write(self) -> Written | None:
        if not self.pending:
            return None
        batch, self.pending = self.pending, {}
        since = self._first_noted
        try:
            await self.store.record_quota_usage(list(batch.items()))
        except Exception as exc:
            # Kept for the next try unless newer reports came meanwhile; the task must live.
            what = str(exc) if isinstance(exc, KeyguardError) else type(exc).__name__
            logger.warning("could not write the quota counts of %d keys: %s", len(batch), what)
            self.pending = {**batch, **self.pending}
            self._first_noted = since  # they still wait since then
            return None
        return Written(len(batch), since)
