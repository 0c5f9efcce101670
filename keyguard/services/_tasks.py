"""Background tasks: started apart from whatever started them, and stopped without losing the
stopper's own cancellation.

A task copies the context it was created in. The guard may start inside the first request
(no lifespan ran): its pollers and writers would then live, for good, inside that request's
context, and every call they make would be traced under that request's span.

`with suppress(CancelledError): await task` also swallows a cancellation aimed at the caller,
which then carries on as if nothing happened (a shutdown that never ends). Gathering with
`return_exceptions=True` collects the tasks' own CancelledErrors and lets the caller's through.
"""

from __future__ import annotations

import asyncio
import contextvars
from collections.abc import Coroutine, Iterable
from typing import Any

__all__ = ["background_task", "stop_tasks"]


def background_task(work: Coroutine[Any, Any, None], name: str) -> asyncio.Task[None]:
    """A task that lives as long as the guard, in a context of its own (see above)."""
    return asyncio.get_running_loop().create_task(work, name=name, context=contextvars.Context())


async def stop_tasks(tasks: Iterable[asyncio.Task[None] | None]) -> None:
    running = [task for task in tasks if task is not None]
    for task in running:
        task.cancel()
    await asyncio.gather(*running, return_exceptions=True)
