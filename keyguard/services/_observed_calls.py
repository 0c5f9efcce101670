"""A server-facing object (the store, the shared cache, a Redis limiter) whose calls are
reported to an `Observer`: the same object, as far as its users can tell, with each coroutine
method wrapped in `observer.call`. Only made when an observer is set."""

from __future__ import annotations

import functools
import inspect
from collections.abc import Callable, Coroutine
from contextlib import AbstractContextManager
from typing import Any, TypeVar, cast

from keyguard.ports import Observer

from ._hook_failures import hook_failed

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

    @property  # type: ignore[misc]
    def __class__(self) -> type:  # isinstance() sees the object it stands for
        return type(self._target)


def _timed(
    call: Callable[..., Coroutine[Any, Any, Any]], observer: Observer, system: str, operation: str
) -> Callable[..., Coroutine[Any, Any, Any]]:
    """The call inside `observer.call`, whose own failures are ignored and which can neither
    swallow the call's exception nor change its result (a lookup that failed must stay a
    failure: read as "no such key", it would be a 401 where a 503 is due)."""

    @functools.wraps(call)
    async def timed(*args: Any, **kwargs: Any) -> Any:
        try:
            observing = observer.call(system, operation)
            observing.__enter__()
        except Exception:
            hook_failed("call")
            return await call(*args, **kwargs)
        try:
            result = await call(*args, **kwargs)
        except BaseException as exc:
            _leave(observing, exc)
            raise
        _leave(observing, None)
        return result

    return timed


def _leave(observing: AbstractContextManager[object], exc: BaseException | None) -> None:
    try:
        if exc is None:
            observing.__exit__(None, None, None)
        else:
            observing.__exit__(type(exc), exc, exc.__traceback__)  # what it returns is ignored
    except Exception:
        hook_failed("call")


def observed_calls(target: T, observer: Observer | None, system: str, prefix: str = "") -> T:
    """`target` itself when nothing observes; else a stand-in whose calls are reported as
    `system` and `prefix + method name`. None (no Redis, say) stays None: a stand-in for
    nothing would look like a server to every `is None` check."""
    if observer is None or target is None:
        return target
    return cast(T, _ObservedCalls(target, observer, system, prefix))
