"""A writer that gathers on the hot path and flushes in the background: every `interval`
seconds, and once more on a clean stop, so nothing gathered is lost when the app stops."""

from __future__ import annotations

import abc
import asyncio
from time import monotonic

from keyguard.ports import Observer

from ._tasks import background_task, stop_tasks

__all__ = ["PeriodicFlush"]


class PeriodicFlush(abc.ABC):
    task_name = "keyguard-flush"
    kind = "flush"  # as an observer is told

    def __init__(self, *, interval: float, observer: Observer | None = None) -> None:
        self.interval = interval
        self.observer = observer
        self._task: asyncio.Task[None] | None = None
        self._last_write = monotonic()

    @abc.abstractmethod
    async def write(self) -> int:
        """Write what was gathered: how many rows, 0 if none or the write failed. Never
        raises (a failed write keeps what it had for the next try)."""

    async def flush(self) -> None:
        written = await self.write()
        if written:
            now = monotonic()
            if self.observer is not None:  # nothing waited longer than since the last write
                self.observer.flushed(self.kind, written, now - self._last_write)
            self._last_write = now

    def start(self) -> None:
        if self._task is None:
            self._task = background_task(self._run(), self.task_name)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.flush()

    async def stop(self) -> None:
        await stop_tasks([self._task])
        self._task = None
        await self.flush()
