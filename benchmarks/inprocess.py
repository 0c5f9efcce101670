"""The in-process harness: each app is called directly as an ASGI callable, under uvloop, with a
prebuilt scope and no-op `receive`/`send`: no server, no client, no sockets between them, so
what is left is the cost of the app and its authentication.

A batch times `n` back-to-back requests; per-request time is batch time / n, and each case
reports the median and p99 over its batches. Cases are interleaved (one batch of each, then the
next round) so drift on a shared machine hits them all alike. Before timing, each case is checked
to do what its name says (the status it answers; for keyguard, which tier answered, from the
verifier's lookup counters), and the counters are checked again afterwards.
"""

from __future__ import annotations

import asyncio
import gc
import math
import statistics
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass
from typing import Any, NamedTuple

from starlette.types import ASGIApp, Message

from keyguard import APIKeyMiddleware

from .apps import PATH

__all__ = [
    "Case",
    "Headers",
    "Span",
    "app_case",
    "call_case",
    "expect_lookups",
    "http_scope",
    "respond",
    "run",
]

Headers = list[tuple[bytes, bytes]]
MAX_BATCH = 50_000
_REQUEST: Message = {"type": "http.request", "body": b"", "more_body": False}


async def _receive() -> Message:
    return _REQUEST


async def _send(message: Message) -> None:
    return None


def http_scope(headers: Headers) -> dict[str, Any]:
    """What uvicorn hands an app for `GET /v1/ping` (same ASGI spec version as uvicorn's)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": PATH,
        "raw_path": PATH.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
    }


class Span(NamedTuple):
    """Elapsed wall-clock time, and the CPU time this process used in it. On a VM an I/O round
    trip's wall time swings with how deeply idle vCPUs sleep; CPU time shows what our own code
    costs around it."""

    wall: float
    cpu: float

    @classmethod
    def start(cls) -> Span:
        return cls(time.perf_counter(), time.process_time())

    def elapsed(self) -> Span:
        return Span(time.perf_counter() - self.wall, time.process_time() - self.cpu)


@dataclass
class Case:
    name: str
    batch: Callable[[int], Awaitable[Span]]  # time taken by n requests
    check: Callable[[], Awaitable[None]]  # raises unless the case does what its name says
    begin: Callable[[], None] = lambda: None  # just before the timed rounds
    verify: Callable[[int], str] = lambda requests: "ok"  # after them: "ok" or why not


async def respond(app: ASGIApp, scope: dict[str, Any]) -> tuple[list[int], Headers]:
    """One request through `app`: the statuses it started, and the headers it sent with them."""
    seen: list[int] = []
    sent: Headers = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            seen.append(message["status"])
            sent.extend(message.get("headers", ()))

    await asyncio.wait_for(app(scope, _receive, send), 30)
    return seen, sent


def app_case(
    name: str,
    app: ASGIApp,
    headers: Headers,
    status: int,
    *,
    sends: Sequence[tuple[bytes, bytes]] = (),
) -> Case:
    """`n` requests through `app`, each with a fresh shallow copy of one prebuilt scope (a server
    makes a new scope per request too, and apps write into it); the copies are made untimed.
    Checked to answer `status` with (at least) the headers `sends`."""
    template = http_scope(headers)

    async def batch(n: int) -> Span:
        scopes = [dict(template) for _ in range(n)]
        start = Span.start()
        for scope in scopes:
            await app(scope, _receive, _send)
        return start.elapsed()

    async def check() -> None:
        seen, sent = await respond(app, dict(template))
        if seen != [status]:
            raise RuntimeError(f"{name}: expected {status}, got {seen}")
        absent = [header for header in sends if header not in sent]
        if absent:
            raise RuntimeError(f"{name}: the response lacks {absent}")

    return Case(name, batch, check)


def call_case(
    name: str, call: Callable[[], Any], ok: Callable[[Any], bool], *, awaited: bool
) -> Case:
    """A bare call `n` times in a row: awaited (a Redis GET, an asyncpg fetch, the verifier) or
    plain (the floor, the rejection decision, which a coroutine would add to)."""

    async def batch(n: int) -> Span:
        start = Span.start()
        if awaited:
            for _ in range(n):
                await call()
        else:
            for _ in range(n):
                call()
        return start.elapsed()

    async def check() -> None:
        result = await call() if awaited else call()
        if not ok(result):
            raise RuntimeError(f"{name}: the call returned {result!r}")

    return Case(name, batch, check)


def expect_lookups(case: Case, app: APIKeyMiddleware, *, store: int, shared: int) -> Case:
    """Make `case` prove which tier answered: per timed request, `store` store lookups and
    `shared` Redis lookups (0 and 0 for a local-cache hit or a rejection)."""
    verifier = app.verifier
    before = [0, 0]

    def begin() -> None:
        before[:] = [verifier.store_lookups, verifier.shared.lookups]

    def verify(requests: int) -> str:
        got = (verifier.store_lookups - before[0], verifier.shared.lookups - before[1])
        want = (store * requests, shared * requests)
        if got == want:
            return "ok"
        return f"MISMATCH: {got[0]} store and {got[1]} Redis lookups, expected {want}"

    case.begin, case.verify = begin, verify
    return case


async def _calibrate(case: Case, target: float) -> int:
    """The batch size that makes one batch last about `target` seconds."""
    n = 1
    while True:
        elapsed = (await case.batch(n)).wall
        if elapsed >= target / 4 or n >= MAX_BATCH:
            return max(1, min(MAX_BATCH, round(target * n / elapsed)))
        n *= 4


def _p99(samples: list[float]) -> float:
    """Nearest rank, no interpolation to flatter a tail."""
    return sorted(samples)[max(1, math.ceil(0.99 * len(samples))) - 1]


async def run(
    cases: Sequence[Case], *, rounds: int, batch_seconds: float, deadline: float
) -> dict[str, dict[str, Any]]:
    """Check, calibrate, then `rounds` rounds of one batch per case (A B C A B C ...); stops
    early (after at least 3 rounds) when the monotonic `deadline` passes."""
    sizes = {}
    for case in cases:
        await case.check()
        sizes[case.name] = await _calibrate(case, batch_seconds)
    spans: dict[str, list[Span]] = {case.name: [] for case in cases}
    for case in cases:
        case.begin()
    for index in range(rounds):
        if index >= 3 and time.monotonic() > deadline:
            break
        gc.collect()  # untimed: a collection lands in no particular case's batch
        for case in cases:
            spans[case.name].append(await case.batch(sizes[case.name]))
    return {case.name: _summary(case, spans[case.name], sizes[case.name]) for case in cases}


def _summary(case: Case, spans: list[Span], size: int) -> dict[str, Any]:
    wall = [span.wall / size * 1e6 for span in spans]
    return {
        "median_us": statistics.median(wall),
        "p99_us": _p99(wall),
        "cpu_us": statistics.median(span.cpu / size * 1e6 for span in spans),
        "batch_size": size,
        "rounds": len(spans),
        "verified": case.verify(size * len(spans)),
    }
