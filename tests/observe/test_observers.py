"""`Observers(a, b)`: each hook goes to every observer, in the order given; `call` nests them
(a enters first and leaves last), and a call's exception passes through both."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator

import pytest

from keyguard import Decision, Gauges, KeyGuard, Observer, Observers, Settings

from .conftest import QUIET, Client, bearer, mint


class Tagged(Observer):
    """Writes (its tag, the hook, its arguments) to a list it shares with others."""

    def __init__(self, tag: str, log: list[tuple[object, ...]], *, tracks: bool = True) -> None:
        self.tag, self.log = tag, log
        self.tracks_requests = tracks

    def watch(self, read: Callable[[], Gauges]) -> None:
        self.log.append((self.tag, "watch", read))

    def verifying(self, request_id: str) -> None:
        self.log.append((self.tag, "verifying", request_id))

    def answered(self, tier: str) -> None:
        self.log.append((self.tag, "answered", tier))

    def decided(self, decision: Decision) -> None:
        self.log.append((self.tag, "decided", decision))

    @contextlib.contextmanager
    def call(self, system: str, operation: str) -> Iterator[None]:
        self.log.append((self.tag, "call", system, operation))
        try:
            yield
        except BaseException as exc:
            self.log.append((self.tag, "call.exit", type(exc).__name__))
            raise
        self.log.append((self.tag, "call.exit", None))

    def change_applied(self, lag: float | None, path: str) -> None:
        self.log.append((self.tag, "change_applied", lag, path))

    def flushed(self, kind: str, size: int, lag: float) -> None:
        self.log.append((self.tag, "flushed", kind, size, lag))


def pair() -> tuple[Observers, list[tuple[object, ...]]]:
    log: list[tuple[object, ...]] = []
    return Observers(Tagged("a", log), Tagged("b", log)), log


def test_each_hook_goes_to_each_in_order() -> None:
    both, log = pair()
    decision = Decision(True, "accepted", "", 0, "secret", "test", "key_1")
    both.verifying("req_1")
    both.answered("local")
    both.decided(decision)
    both.change_applied(0.5, "redis")
    both.flushed("quota", 3, 1.5)
    assert log == [
        (tag, *hook)
        for hook in [
            ("verifying", "req_1"),
            ("answered", "local"),
            ("decided", decision),
            ("change_applied", 0.5, "redis"),
            ("flushed", "quota", 3, 1.5),
        ]
        for tag in "ab"
    ]


def test_a_hit_is_a_local_answer_then_its_decision_for_each() -> None:
    both, log = pair()
    decision = Decision(True, "accepted", "", 0, "secret", "test", "key_1")
    both.hit(decision)
    assert log == [
        ("a", "answered", "local"),
        ("a", "decided", decision),
        ("b", "answered", "local"),
        ("b", "decided", decision),
    ]


def test_only_observers_that_track_requests_hear_of_each_one_begin() -> None:
    log: list[tuple[object, ...]] = []
    counter, tracer = Tagged("counter", log, tracks=False), Tagged("tracer", log)
    assert not Observers(counter, Tagged("other", log, tracks=False)).tracks_requests
    both = Observers(counter, tracer)
    assert both.tracks_requests
    both.verifying("req_1")
    assert log == [("tracer", "verifying", "req_1")]


def test_calls_nest_and_a_failure_passes_through_both() -> None:
    both, log = pair()
    with both.call("store", "find_by_digest"):
        log.append(("inside",))
    assert log == [
        ("a", "call", "store", "find_by_digest"),
        ("b", "call", "store", "find_by_digest"),
        ("inside",),
        ("b", "call.exit", None),
        ("a", "call.exit", None),
    ]
    log.clear()
    with pytest.raises(ConnectionError), both.call("redis", "cache.get"):
        raise ConnectionError("refused")
    assert log[2:] == [("b", "call.exit", "ConnectionError"), ("a", "call.exit", "ConnectionError")]


async def test_a_guard_reports_to_both(tmp_path: object, client_for: Client) -> None:
    both, log = pair()
    settings = Settings(database_url=f"sqlite:///{tmp_path}/k.db", pepper="observe", **QUIET)
    guard = KeyGuard(settings, observer=both)
    assert log == [("a", "watch", guard.gauges), ("b", "watch", guard.gauges)]
    async with guard:
        key, _ = await mint(guard)
        log.clear()
        async with client_for(guard) as client:
            assert (await client.get("/v1/me", headers=bearer(key))).status_code == 200
    seen = {tag: [entry[1:] for entry in log if entry[0] == tag] for tag in "ab"}
    assert seen["a"] == seen["b"] and seen["a"]
    assert [entry[1] for entry in log[:2]] == ["verifying", "verifying"]
