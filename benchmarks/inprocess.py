"""The in-process harness: each app is called directly as an ASGI callable, under uvloop, with a
prebuilt scope and no-op `receive`/`send`: no server, no client, no sockets between them.

A batch times `n` back-to-back requests; per-request time is batch time / n, and each case
reports the median and p99 over its batches. Cases are interleaved (one batch of each, then the
next round) so drift on a shared machine hits them all alike, and every figure is also given as
a ratio to the bare Starlette app measured in the same rounds. Before timing, each case is
checked to do what its name says (the status it answers; for keyguard, which tier answered,
from the verifier's lookup counters), and the counters are checked again afterwards.
"""

from __future__ import annotations

import asyncio
import gc
import time
from collections.abc import Awaitable, Callable, Sequence
from dataclasses import dataclass, field
from types import TracebackType
from typing import Any, NamedTuple

from starlette.types import ASGIApp, Message

from keyguard import APIKeyMiddleware

from .apps import PATH
from .stats import median, percentile

__all__ = [
    "Case",
    "CaseResult",
    "Lifespan",
    "Span",
    "app_case",
    "async_case",
    "expect_lookups",
    "http_scope",
    "noop_receive",
    "noop_send",
    "run_interleaved",
    "since",
    "start_span",
    "sync_case",
]

Headers = list[tuple[bytes, bytes]]
MAX_BATCH = 50_000
_REQUEST: Message = {"type": "http.request", "body": b"", "more_body": False}


async def noop_receive() -> Message:
    return _REQUEST


async def noop_send(message: Message) -> None:
    return None


def http_scope(headers: Headers, path: str = PATH) -> dict[str, Any]:
    """What uvicorn hands an app for `GET path` (same ASGI spec version as uvicorn's)."""
    return {
        "type": "http",
        "asgi": {"version": "3.0", "spec_version": "2.3"},
        "http_version": "1.1",
        "server": ("127.0.0.1", 8000),
        "client": ("127.0.0.1", 50000),
        "scheme": "http",
        "method": "GET",
        "root_path": "",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "headers": [(b"host", b"127.0.0.1:8000"), *headers],
    }


class Lifespan:
    """Runs an app's ASGI lifespan in this process: startup on enter, shutdown on exit."""

    def __init__(self, app: ASGIApp, timeout: float = 30.0) -> None:
        self.app = app
        self.timeout = timeout
        self._inbox: asyncio.Queue[Message] = asyncio.Queue()
        self._outbox: asyncio.Queue[Message] = asyncio.Queue()
        self._task: asyncio.Task[None] | None = None

    async def _exchange(self, message: Message) -> Message:
        await self._inbox.put(message)
        assert self._task is not None
        reply = asyncio.ensure_future(self._outbox.get())
        done, _ = await asyncio.wait(
            {reply, self._task}, timeout=self.timeout, return_when="FIRST_COMPLETED"
        )
        if reply not in done:
            reply.cancel()
            raise RuntimeError(f"the app did not answer {message['type']} in {self.timeout} s")
        return reply.result()

    async def __aenter__(self) -> Lifespan:
        scope = {"type": "lifespan", "asgi": {"version": "3.0", "spec_version": "2.0"}, "state": {}}
        self._task = asyncio.ensure_future(self.app(scope, self._inbox.get, self._outbox.put))
        reply = await self._exchange({"type": "lifespan.startup"})
        if reply["type"] != "lifespan.startup.complete":
            raise RuntimeError(f"startup failed: {reply.get('message', reply['type'])}")
        return self

    async def __aexit__(
        self, kind: type[BaseException] | None, exc: BaseException | None, tb: TracebackType | None
    ) -> None:
        assert self._task is not None
        try:
            await self._exchange({"type": "lifespan.shutdown"})
            await asyncio.wait_for(self._task, self.timeout)
        finally:
            self._task.cancel()


class Span(NamedTuple):
    """Elapsed wall-clock time, and the CPU time this process used in it. On a VM an I/O round
    trip's wall time swings with how deeply idle vCPUs sleep; CPU time shows what our own code
    costs around it."""

    wall: float
    cpu: float


def start_span() -> Span:
    return Span(time.perf_counter(), time.process_time())


def since(start: Span) -> Span:
    return Span(time.perf_counter() - start.wall, time.process_time() - start.cpu)


def _nothing() -> None:
    return None


def _ok(requests: int) -> str:
    return "ok"


@dataclass
class Case:
    name: str
    label: str
    batch: Callable[[int], Awaitable[Span]]  # time taken by n requests
    check: Callable[[], Awaitable[None]]  # raises unless the case does what its name says
    max_rounds: int | None = None  # slow cases (a 0.1 s sleep inside) take part in fewer rounds
    begin: Callable[[], None] = _nothing  # just before the timed rounds
    verify: Callable[[int], str] = _ok  # after them, given the requests timed: "ok" or why not


@dataclass
class CaseResult:
    name: str
    label: str
    median_s: float
    p99_s: float
    cpu_median_s: float  # CPU time per request, median over batches
    batch_size: int
    rounds: int
    verified: str
    samples: list[float] = field(repr=False, default_factory=list)  # wall s per request


async def status_of(app: ASGIApp, scope: dict[str, Any]) -> int:
    seen: list[int] = []

    async def send(message: Message) -> None:
        if message["type"] == "http.response.start":
            seen.append(message["status"])

    await asyncio.wait_for(app(dict(scope), noop_receive, send), 30)
    if not seen:
        raise RuntimeError("the app sent no response")
    return seen[0]


def app_case(
    name: str, label: str, app: ASGIApp, headers: Headers, status: int, **options: Any
) -> Case:
    """`n` requests through `app`, each with a fresh shallow copy of one prebuilt scope (a server
    makes a new scope per request too, and apps write into it); the copies are made untimed."""
    template = http_scope(headers)

    async def batch(n: int) -> Span:
        scopes = [dict(template) for _ in range(n)]
        start = start_span()
        for scope in scopes:
            await app(scope, noop_receive, noop_send)
        return since(start)

    async def check() -> None:
        got = await status_of(app, template)
        if got != status:
            raise RuntimeError(f"{name}: expected {status}, got {got}")

    return Case(name, label, batch, check, **options)


def async_case(
    name: str, label: str, call: Callable[[], Awaitable[object]], check: Callable[[object], bool]
) -> Case:
    """A bare client call (a Redis GET, an asyncpg fetch) awaited `n` times in a row."""

    async def batch(n: int) -> Span:
        start = start_span()
        for _ in range(n):
            await call()
        return since(start)

    async def run_check() -> None:
        if not check(await call()):
            raise RuntimeError(f"{name}: the call did not return what it should")

    return Case(name, label, batch, run_check)


def sync_case(
    name: str, label: str, call: Callable[[], object], check: Callable[[object], bool]
) -> Case:
    """Plain function calls, no await: the floor and the bare rejection decision."""

    async def batch(n: int) -> Span:
        start = start_span()
        for _ in range(n):
            call()
        return since(start)

    async def run_check() -> None:
        if not check(call()):
            raise RuntimeError(f"{name}: the call did not return what it should")

    return Case(name, label, batch, run_check)


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
            per_request = elapsed / n
            return max(1, min(MAX_BATCH, round(target / per_request)))
        n *= 4


async def run_interleaved(
    cases: Sequence[Case], *, rounds: int, batch_seconds: float, deadline: float
) -> dict[str, CaseResult]:
    """Check, calibrate, then `rounds` rounds of one batch per case (A B C A B C ...).
    Stops early (after at least 3 rounds) when the monotonic `deadline` passes."""
    sizes: dict[str, int] = {}
    for case in cases:
        await case.check()
        sizes[case.name] = await _calibrate(case, batch_seconds)
    samples: dict[str, list[float]] = {case.name: [] for case in cases}
    cpu: dict[str, list[float]] = {case.name: [] for case in cases}
    timed = dict.fromkeys(sizes, 0)
    for case in cases:
        case.begin()
    for index in range(rounds):
        if index >= 3 and time.monotonic() > deadline:
            break
        gc.collect()  # untimed: a collection lands in no particular case's batch
        for case in cases:
            if case.max_rounds is not None and index >= case.max_rounds:
                continue
            n = sizes[case.name]
            span = await case.batch(n)
            samples[case.name].append(span.wall / n)
            cpu[case.name].append(span.cpu / n)
            timed[case.name] += n
    return {
        case.name: _result(case, samples[case.name], cpu[case.name], sizes[case.name], timed)
        for case in cases
    }


def _result(
    case: Case, samples: list[float], cpu: list[float], size: int, timed: dict[str, int]
) -> CaseResult:
    return CaseResult(
        name=case.name,
        label=case.label,
        median_s=median(samples),
        p99_s=percentile(samples, 99),
        cpu_median_s=median(cpu),
        batch_size=size,
        rounds=len(samples),
        verified=case.verify(timed[case.name]),
        samples=samples,
    )
