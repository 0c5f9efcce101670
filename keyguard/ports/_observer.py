"""What keyguard reports as it works, for metrics and traces: the `Observer` hooks.

Off by default (`KeyGuard(observer=None)`): no component then calls anything, and the local-hit
path is what it was but for one `is None` check. When on, every hook runs on a request's path
or a background task: an observer must not block and must not do I/O. A hook that raises is
logged (once per hook) and ignored, and a `call` hook cannot hide a call's failure or change
its result: observing never changes what keyguard answers.

Nothing passed to a hook holds a key value. Labels an observer builds from these values stay
bounded: `reason`, `code`, `access`, `environment`, `tier`, `system` and `operation` each take a
handful of values; `key_id` is unbounded and is for traces the operator asked for, never for a
metric's labels.
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Mapping
from typing import NamedTuple

__all__ = ["Decision", "Gauges", "Observer", "Observers"]


class Decision(NamedTuple):
    """How one request's key check ended."""

    accepted: bool
    reason: str  # "accepted", or the refusal: "missing", "invalid", "over_rate", ...
    code: str  # the envelope's code ("" when accepted): "INVALID_API_KEY", "RATE_LIMITED", ...
    status: int  # the status keyguard answered with, or 0 when the request went on to the app
    access: str  # "secret", "publishable", or "unknown" when no valid key was found
    environment: str  # "test", "live", ..., or "unknown"
    key_id: str | None  # the valid key's id, when one was found


class Gauges(NamedTuple):
    """What a process holds right now, read when an observer asks (a scrape, say)."""

    cached_keys: int  # entries in the in-process cache
    breakers_open: Mapping[str, bool]  # by breaker name: "shared_cache", "usage_limits"
    change_feed_live: bool  # has the store's change log been read within a few poll intervals
    pending_last_used: int  # last-used times waiting for the next flush
    notices_live: bool | None = None  # subscribed to Redis's change notices (None: no Redis)


class Observer:
    """Every hook does nothing: subclass and override the ones you need.

    The order for one request: `verifying` (if `tracks_requests`), then `answered` for each
    lookup that reached a tier, with `call` around each store or Redis call it made, then
    `decided`, before the app runs (or the refusal is sent).
    """

    # False: `verifying` is never called, and no request id is minted for it (a counter has
    # no use for either, and a local hit would pay for both). A tracer sets it.
    tracks_requests: bool = False

    def watch(self, read: Callable[[], Gauges]) -> None:
        """Called once, as the guard is built: `read()` gives its gauges whenever asked."""

    def verifying(self, request_id: str) -> None:
        """A request's key check begins (after public paths and CORS preflights, which are not
        checked), with the request's id (the client's `X-Request-ID`, or one minted now and
        kept for the response). Called only when `tracks_requests` is set."""

    def answered(self, tier: str) -> None:
        """A lookup was answered by a tier: "local", "redis" or "store"."""

    def decided(self, decision: Decision) -> None:
        """The request's key check ended."""

    def hit(self, decision: Decision) -> None:
        """A request let in by the local cache alone (the hot path): `answered("local")`, then
        `decided(decision)`, as one call. Override it only to make that pair cheaper."""
        self.answered("local")
        self.decided(decision)

    @contextlib.contextmanager
    def call(self, system: str, operation: str) -> Iterator[None]:
        """Around one call to a server: `system` "store" or "redis"; `operation` the call's
        name ("find_by_digest", "cache.get", "usage.decide", ...). An exception raised in the
        call passes through (it failed)."""
        yield

    def change_applied(self, lag: float | None, path: str) -> None:
        """A key change (revoke, roll, restriction...) reached this process and its cached
        copies were dropped. `lag`: seconds from the change's commit (None if unknown), by
        the clock that stamped it: the store's for the change log (PostgreSQL's, or the
        writing host's for SQLite), the committing process's for Redis notices; so hosts
        whose clocks disagree shift it by the difference (it is never below 0). `path`:
        "local" (this process made it), "redis" (the fast notice) or "log" (the store's
        change log). Reported once per change, by whichever path brought it first."""

    def flushed(self, kind: str, size: int, lag: float) -> None:
        """A background writer wrote a batch: `kind` "last_used" or "quota"; `size` rows;
        `lag` seconds from its oldest item's gathering to the write (the oldest last-used
        time written; the first quota report since the previous write)."""


class Observers(Observer):
    """Several observers as one (Prometheus and OpenTelemetry, say), in the order given."""

    def __init__(self, *observers: Observer) -> None:
        self.observers = observers
        self.tracks_requests = any(o.tracks_requests for o in observers)

    def watch(self, read: Callable[[], Gauges]) -> None:
        for observer in self.observers:
            observer.watch(read)

    def verifying(self, request_id: str) -> None:
        for observer in self.observers:
            if observer.tracks_requests:
                observer.verifying(request_id)

    def answered(self, tier: str) -> None:
        for observer in self.observers:
            observer.answered(tier)

    def decided(self, decision: Decision) -> None:
        for observer in self.observers:
            observer.decided(decision)

    def hit(self, decision: Decision) -> None:
        for observer in self.observers:
            observer.hit(decision)

    @contextlib.contextmanager
    def call(self, system: str, operation: str) -> Iterator[None]:
        with contextlib.ExitStack() as calls:
            for observer in self.observers:
                calls.enter_context(observer.call(system, operation))
            yield

    def change_applied(self, lag: float | None, path: str) -> None:
        for observer in self.observers:
            observer.change_applied(lag, path)

    def flushed(self, kind: str, size: int, lag: float) -> None:
        for observer in self.observers:
            observer.flushed(kind, size, lag)
