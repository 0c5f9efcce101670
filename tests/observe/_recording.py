"""`RecordingObserver`: every hook call, in order, as a `Hook` (name and arguments), for tests
that pin what keyguard reports and when.

`call` is recorded twice, as "call" when it is entered and as "call.exit" when it ends, with
the exception it ended with (None when it returned): so a test sees what ran inside it, and
that a failure passed through. The app under test can `mark("app")` to show where it ran.
Every recorder made is kept in `RecordingObserver.made`, for the check that no hook argument
ever held a key value (tests/observe/conftest.py).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator
from typing import ClassVar, NamedTuple

from keyguard import Decision, Gauges, Observer

__all__ = ["Hook", "RecordingObserver"]


class Hook(NamedTuple):
    name: str
    args: tuple[object, ...]


class RecordingObserver(Observer):
    made: ClassVar[list[RecordingObserver]] = []
    tracks_requests = True  # a tracer's view: `verifying` too

    def __init__(self) -> None:
        self.hooks: list[Hook] = []  # since the last `take`
        self.history: list[Hook] = []  # everything, for the check that no key is in any
        RecordingObserver.made.append(self)

    def _add(self, hook: Hook) -> None:
        self.hooks.append(hook)
        self.history.append(hook)

    def mark(self, name: str, *args: object) -> None:
        """Not a hook: the test's own entry (the app ran, say), placed among the hooks."""
        self._add(Hook(name, args))

    def watch(self, read: Callable[[], Gauges]) -> None:
        self._add(Hook("watch", (read,)))

    def verifying(self, request_id: str) -> None:
        self._add(Hook("verifying", (request_id,)))

    def answered(self, tier: str) -> None:
        self._add(Hook("answered", (tier,)))

    def decided(self, decision: Decision) -> None:
        self._add(Hook("decided", (decision,)))

    @contextlib.contextmanager
    def call(self, system: str, operation: str) -> Iterator[None]:
        self._add(Hook("call", (system, operation)))
        try:
            yield
        except BaseException as exc:
            self._add(Hook("call.exit", (system, operation, exc)))
            raise
        self._add(Hook("call.exit", (system, operation, None)))

    def change_applied(self, lag: float | None, path: str) -> None:
        self._add(Hook("change_applied", (lag, path)))

    def flushed(self, kind: str, size: int, lag: float) -> None:
        self._add(Hook("flushed", (kind, size, lag)))

    # Reading what was recorded.

    def take(self) -> list[Hook]:
        """What was recorded since the last `take`, and forget it."""
        taken, self.hooks = self.hooks, []
        return taken

    def named(self, *names: str) -> list[Hook]:
        return [hook for hook in self.hooks if hook.name in names]

    def decisions(self) -> list[Decision]:
        return [hook.args[0] for hook in self.named("decided")]  # type: ignore[misc]

    def shape(self) -> list[tuple[object, ...]]:
        """The hooks without what varies run to run (request ids, lags, exceptions' text):
        (name, the arguments that identify it), for comparing whole sequences."""
        return [_shape(hook) for hook in self.hooks]


def _shape(hook: Hook) -> tuple[object, ...]:
    if hook.name == "verifying":
        return ("verifying",)
    if hook.name == "call.exit":
        system, operation, exc = hook.args
        return ("call.exit", system, operation, None if exc is None else type(exc).__name__)
    if hook.name == "decided":
        decision = hook.args[0]
        assert isinstance(decision, Decision)
        return ("decided", decision.reason, decision.status)
    if hook.name == "change_applied":
        return ("change_applied", hook.args[1])  # the path; the lag varies
    if hook.name == "flushed":
        return ("flushed", *hook.args[:2])  # kind and size; the lag varies
    return (hook.name, *hook.args)
