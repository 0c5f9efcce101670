"""A writer that gathers on the hot path and flushes in the background: every `interval`
seconds, and once more on a clean stop, so nothing gathered is lost when the app stops."""

from __future__ import annotations

import abc
import asyncio
import time
from typing import NamedTuple

from keyguard.ports import Observer

from ._hook_failures import hook_failed
from ._tasks import background_task, stop_tasks

__all__ = ["PeriodicFlush", "Written"]


class Written(NamedTuple):
    rows: int
    oldest: float  # when the oldest of them was gathered (Unix seconds): for the lag


class PeriodicFlush(abc.ABC):
    task_name = "keyguard-flush"
    kind = "flush"  # as an observer is told

    def __init__(self, *, interval: float, observer: Observer | None = None) -> None:
        self.interval = interval
        self.observer = observer
        self._task: asyncio.Task[None] | None = None

    @abc.abstractmethod
    async def write(self) -> Written | None:
        """Write what was gathered; None if there was nothing or the write failed. Never
        raises (a failed write keeps what it had for the next try)."""

    async def flush(self) -> None:
        written = await self.write()
        if written is not None and self.observer is not None:
            lag = max(0.0, time.time() - written.oldest)
            try:
                self.observer.flushed(self.kind, written.rows, lag)
            except Exception:  # the writer must live on, whatever an observer does
                hook_failed("flushed")

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
