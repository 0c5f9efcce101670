"""A server-facing object (the store, the shared cache, a Redis limiter) whose calls are
reported to an `Observer`: the same object, as far as its users can tell, with each coroutine
method wrapped in `observer.call`. Only made when an observer is set."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar, cast

from keyguard.ports import Observer

__all__ = ["LONG_CALLS", "observed_calls"]

T = TypeVar("T")
# Calls that last as long as the process listens: not timed, they would be one endless call.
LONG_CALLS = frozenset({"watch_changes", "listen", "open", "close"})


class _ObservedCalls:
    def __init__(self, target: object, observer: Observer, system: str, prefix: str) -> None:
        self._target = target
        self._observer = observer
        self._system = system
        self._prefix = prefix

    def __getattr__(self, name: str) -> Any:
        found = getattr(self._target, name)
        if name in LONG_CALLS or not inspect.iscoroutinefunction(found):
            return found  # read each time: a plain attribute may change
        wrapped = _timed(found, self._observer, self._system, self._prefix + name)
        setattr(self, name, wrapped)  # wrapped once, then found without __getattr__
        return wrapped

    def __repr__(self) -> str:
        return repr(self._target)


def _timed(
    call: Callable[..., Coroutine[Any, Any, Any]], observer: Observer, system: str, operation: str
) -> Callable[..., Coroutine[Any, Any, Any]]:
    @functools.wraps(call)
    async def timed(*args: Any, **kwargs: Any) -> Any:
        with observer.call(system, operation):
            return await call(*args, **kwargs)

    return timed


def observed_calls(target: T, observer: Observer | None, system: str, prefix: str = "") -> T:
    """`target` itself when nothing observes; else a stand-in whose calls are reported as
    `system` and `prefix + method name`. None stays None (no Redis configured): a stand-in for
    nothing would pass every `is None` check and be called as if Redis were there."""
    if observer is None or target is None:
        return target
    return cast(T, _ObservedCalls(target, observer, system, prefix))
