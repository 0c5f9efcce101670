"""Every process learns of every change from the store: it reads the change log from the last
`seq` it saw, every `poll_interval` and whenever the store says something changed (PostgreSQL
NOTIFY), so a notification lost with a dropped connection costs latency, never a change.

Each read that comes back complete moves the verifier's trust horizon: what the shared cache
says is believed only as long as this process would have heard of a change that made it stale.
The log is pruned by age, never read whole: at start only the changes recent enough to matter
to shared-cache entries are read, to remember them.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from time import monotonic

from keyguard.core import KeyguardError
from keyguard.ports import KeyStore, StoreChange

from ._tasks import background_task, stop_tasks

__all__ = ["ChangeFeed"]

logger = logging.getLogger(__name__)
_PAGE = 1000
_PRUNE_EVERY = 60.0  # seconds, jittered, per process


class ChangeFeed:
    def __init__(
        self,
        store: KeyStore,
        *,
        on_changes: Callable[[Sequence[StoreChange]], None],
        on_synced: Callable[[float], None],
        remember: Callable[[StoreChange], object],
        remember_for: float,
        poll_interval: float = 0.25,
        retention: float = 3600.0,
        notifications: bool = True,
    ) -> None:
        self.store = store
        self.on_changes = on_changes
        self.on_synced = on_synced
        self.remember = remember
        self.remember_for = remember_for
        self.poll_interval = poll_interval
        self.retention = retention
        self.notifications = notifications
        self.last_seq = 0
        self.last_synced = -1.0  # monotonic time the last complete read began (-1: never)
        self._wake = asyncio.Event()
        self._failing = False
        self._tasks: list[asyncio.Task[None]] = []

    async def start(self) -> None:
        """Read what is recent enough to matter, then follow the log in the background."""
        started = monotonic()
        self.last_seq = await self.store.last_change()
        after = 0
        while True:
            page = await self.store.read_changes(after, within=self.remember_for, limit=_PAGE)
            for change in page:
                self.remember(change)
            if len(page) < _PAGE:
                break
            after = page[-1].seq
        self._synced(started)
        self._tasks = [background_task(self._follow(), "keyguard-change-feed")]
        if self.notifications:
            self._tasks.append(background_task(self._watch(), "keyguard-change-notifications"))

    async def stop(self) -> None:
        await stop_tasks(self._tasks)
        self._tasks = []

    @property
    def live(self) -> bool:
        """Has the log been read completely within the last few poll intervals?"""
        return self.last_synced >= 0 and monotonic() - self.last_synced < 4 * self.poll_interval

    def wake(self) -> None:
        self._wake.set()

    async def poll(self) -> None:
        """Read every change after the last seen, in pages; apply them; move the horizon."""
        while True:
            started = monotonic()
            page = await self.store.read_changes(self.last_seq, limit=_PAGE)
            if page:
                self.on_changes(page)
                self.last_seq = page[-1].seq  # only once applied: a failure re-reads the page
            if len(page) < _PAGE:
                self._synced(started)
                return

    def _synced(self, started: float) -> None:
        self.last_synced = started
        self.on_synced(started)

    async def _follow(self) -> None:
        next_prune = monotonic() + random.uniform(0, _PRUNE_EVERY)  # noqa: S311 (jitter)
        while True:
            # Not wait_for: on Python 3.11 it can swallow a cancel that lands as the event is set.
            with contextlib.suppress(TimeoutError):
                async with asyncio.timeout(self.poll_interval):
                    await self._wake.wait()
            self._wake.clear()
            await self._poll_logging_failures()
            if monotonic() >= next_prune:
                next_prune = monotonic() + _PRUNE_EVERY
                await self._prune()

    async def _poll_logging_failures(self) -> None:
        try:
            await self.poll()
        except Exception as exc:
            if not self._failing:
                logger.warning(
                    "cannot read the change log (%s): keys the shared cache holds are checked"
                    " against the store until it answers",
                    exc if isinstance(exc, KeyguardError) else type(exc).__name__,
                )
                self._failing = True
            return
        if self._failing:
            logger.info("reading the change log again")
            self._failing = False

    async def _prune(self) -> None:
        try:
            await self.store.prune_changes(self.retention)
        except Exception as exc:
            logger.debug("change log not pruned: %s", type(exc).__name__)

    async def _watch(self) -> None:
        try:
            await self.store.watch_changes(self.wake)
        except Exception:
            logger.exception("change notifications stopped: polling alone")
