"""A writer that gathers on the hot path and flushes in the background: every `interval`
seconds, and once more on a clean stop, so nothing gathered is lost when the app stops."""

from __future__ import annotations

import abc
import asyncio

from ._tasks import stop_tasks

__all__ = ["PeriodicFlush"]


class PeriodicFlush(abc.ABC):
    task_name = "keyguard-flush"

    def __init__(self, *, interval: float) -> None:
        self.interval = interval
        self._task: asyncio.Task[None] | None = None

    @abc.abstractmethod
    async def flush(self) -> None:
        """Write what was gathered; never raises (a failed write keeps it for the next try)."""

    def start(self) -> None:
        if self._task is None:
            self._task = asyncio.create_task(self._run(), name=self.task_name)

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self.interval)
            await self.flush()

    async def stop(self) -> None:
        await stop_tasks([self._task])
        self._task = None
        await self.flush()
