"""Stopping background tasks without losing the stopper's own cancellation.

`with suppress(CancelledError): await task` also swallows a cancellation aimed at the caller,
which then carries on as if nothing happened (a shutdown that never ends). Gathering with
`return_exceptions=True` collects the tasks' own CancelledErrors and lets the caller's through.
"""

from __future__ import annotations

import asyncio
from collections.abc import Iterable

__all__ = ["stop_tasks"]


async def stop_tasks(tasks: Iterable[asyncio.Task[None] | None]) -> None:
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
