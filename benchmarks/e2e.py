"""End to end: each app under uvicorn (on 127.0.0.1, one worker unless asked) in its own process
group, loaded by wrk (or the Python client); requests per second and p50/p99 latency.

All servers of a run are started first and stopped last (always, in `finally`), and the load
runs are interleaved across them, round after round; between runs the harness waits until the
server just loaded has gone idle, so a queue left behind by a slow app cannot slow the next.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import signal
import socket
import sys
import tempfile
import time
from collections.abc import AsyncIterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path

from .apps import PATH
from .environment import BenchEnv
from .loadgen import Header, Load, http_get, run_python_client, run_wrk
from .stats import median

__all__ = ["E2EResult", "LoadSettings", "Server", "Target", "run_e2e", "servers"]

ROOT = Path(__file__).resolve().parent.parent  # so `-m benchmarks.server` imports from here
STOP_TIMEOUT = 10.0
HAVE_PROC = Path("/proc/self/stat").exists()  # CPU time per process group, for `settle`


@dataclass(frozen=True)
class Target:
    name: str
    label: str
    app: str  # a key of benchmarks.server.APPS
    headers: tuple[Header, ...]
    workers: int = 1
    slow: bool = False  # ~0.1 s of CPU per request (Argon2): see LoadSettings.slow_*


@dataclass(frozen=True)
class LoadSettings:
    seconds: float
    warmup: float
    rounds: int
    connections: int
    wrk: str | None  # None: the Python client
    http: str  # uvicorn's HTTP implementation ("auto" picks httptools when installed)
    # A slow target's throughput is bound by its CPU time per request, whatever the number of
    # connections; with many, a request waits seconds in the queue, longer than a short run.
    # So it runs with few connections, for longer, and in fewer rounds.
    slow_connections: int = 4
    slow_seconds: float = 3
    slow_rounds: int = 1

    def for_target(self, target: Target) -> tuple[int, float]:
        """Connections and seconds for one run against `target`."""
        if target.slow:
            return self.slow_connections, max(self.seconds, self.slow_seconds)
        return self.connections, self.seconds


@dataclass
class E2EResult:
    name: str
    label: str
    rps: float
    p50_s: float
    p99_s: float
    cpu_per_request_s: float  # server CPU time per request served
    errors: int
    bad_status: int
    runs: list[Load] = field(default_factory=list)


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return int(s.getsockname()[1])


class Server:
    def __init__(self, target: Target, env: BenchEnv, http: str) -> None:
        self.target = target
        self.port = _free_port()
        self._env = env
        self._http = http
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
        self.proc: asyncio.subprocess.Process | None = None

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.port}{PATH}"

    async def start(self, within: float = 60.0) -> None:
        env = {**os.environ, "BENCH_ENV": self._env.to_json(), "PYTHONPATH": str(ROOT)}
        args = [self.target.app, str(self.port), str(self.target.workers), self._http]
        self.proc = await asyncio.create_subprocess_exec(
            sys.executable, "-m", "benchmarks.server", *args,
            cwd=ROOT, env=env, stdout=self._log, stderr=self._log, start_new_session=True,
        )  # fmt: skip
        await self._wait_ready(within)

    async def _wait_ready(self, within: float) -> None:
        assert self.proc is not None
        deadline = time.monotonic() + within
        while time.monotonic() < deadline:
            if self.proc.returncode is not None:
                raise RuntimeError(f"{self.target.name} exited at start:\n{self.log_tail()}")
            with contextlib.suppress(OSError, TimeoutError, asyncio.IncompleteReadError):
                status, _ = await http_get(self.port, PATH, self.target.headers, within=10)
                if status == 200:
                    return
                raise RuntimeError(f"{self.target.name} answers {status}, not 200")
            await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.target.name} not ready in {within} s:\n{self.log_tail()}")

    def log_tail(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-2000:]

    def _signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)  # the group this run created for this server

    async def stop(self) -> None:
        if self.proc is None:
            return
        if self.proc.returncode is None:
            self._signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), STOP_TIMEOUT)
            except TimeoutError:
                self._signal(signal.SIGKILL)
                await self.proc.wait()
        self._signal(signal.SIGKILL)  # any worker left behind by a supervisor that died
        self._log.close()

    def cpu_seconds(self) -> float:
        """CPU time used so far by every process in the server's group (Linux /proc; 0 without)."""
        assert self.proc is not None
        if not HAVE_PROC:
            return 0.0
        total = 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) == self.proc.pid:  # field 5, pgrp, after "pid (comm) state"
                    total += int(fields[11]) + int(fields[12])  # utime + stime
        return total / os.sysconf("SC_CLK_TCK")

    async def settle(self, bound: float = 15.0) -> None:
        """Wait until the server has used no CPU for a while (at most `bound` seconds): longer
        than keyshield's random delay (up to 0.3 s) for a slow target."""
        quiet = 0.4 if self.target.slow else 0.1
        if not HAVE_PROC:
            await asyncio.sleep(1.0)
            return
        deadline = time.monotonic() + bound
        last = self.cpu_seconds()
        while time.monotonic() < deadline:
            await asyncio.sleep(quiet)
            now = self.cpu_seconds()
            if now - last < 0.01:
                return
            last = now


@contextlib.asynccontextmanager
async def servers(
    targets: Sequence[Target], env: BenchEnv, http: str, failed: dict[str, str] | None = None
) -> AsyncIterator[list[Server]]:
    """Start every target's server, stop them all after. A server that cannot start is left
    out and its reason put in `failed` (if given; else the error propagates)."""
    started = [Server(target, env, http) for target in targets]
    try:
        outcomes = await asyncio.gather(*(s.start() for s in started), return_exceptions=True)
        running = []
        for server, outcome in zip(started, outcomes, strict=True):
            if isinstance(outcome, BaseException):
                if failed is None or not isinstance(outcome, RuntimeError):
                    raise outcome
                failed[server.target.name] = str(outcome).splitlines()[0]
            else:
                running.append(server)
        yield running
    finally:
        await asyncio.gather(*(s.stop() for s in started), return_exceptions=True)


async def load(server: Server, settings: LoadSettings, seconds: float | None = None) -> Load:
    """One load run (`seconds` given: a warm-up of that length), then wait for idle."""
    target = server.target
    connections, length = settings.for_target(target)
    cpu_before = server.cpu_seconds()
    if settings.wrk is not None and seconds is None:
        result = await run_wrk(
            settings.wrk, server.url, target.headers, seconds=length, connections=connections
        )
    else:  # also the warm-ups: wrk runs for whole seconds only
        result = await run_python_client(
            server.port, PATH, target.headers, seconds=seconds or length, connections=connections
        )
    result.server_cpu_s = server.cpu_seconds() - cpu_before
    await server.settle()
    return result


async def run_e2e(
    targets: Sequence[Target], env: BenchEnv, settings: LoadSettings, *, deadline: float
) -> tuple[dict[str, E2EResult], dict[str, str]]:
    """Results by target name, and the targets that could not run with why."""
    failed: dict[str, str] = {}
    async with servers(targets, env, settings.http, failed) as running:
        return await run_rounds(running, settings, deadline=deadline), failed


async def run_rounds(
    running: Sequence[Server], settings: LoadSettings, *, deadline: float
) -> dict[str, E2EResult]:
    """A warm-up per server, then rounds of one load run per server (A B C A B C ...); after
    the first round, no new round starts past the monotonic `deadline`."""
    for server in running:  # untimed: pools filled, caches warm, code paths hot
        await load(server, settings, settings.warmup)
    runs: dict[str, list[Load]] = {s.target.name: [] for s in running}
    for index in range(settings.rounds):
        if index and time.monotonic() > deadline:
            break
        for server in running:
            if server.target.slow and index >= settings.slow_rounds:
                continue
            runs[server.target.name].append(await load(server, settings))
    return {s.target.name: _summary(s.target, runs[s.target.name]) for s in running}


def _summary(target: Target, runs: list[Load]) -> E2EResult:
    return E2EResult(
        name=target.name,
        label=target.label,
        rps=median([r.rps for r in runs]),
        p50_s=median([r.p50_s for r in runs]),
        p99_s=median([r.p99_s for r in runs]),
        cpu_per_request_s=median([r.server_cpu_s / max(1, r.requests) for r in runs]),
        errors=sum(r.errors for r in runs),
        bad_status=sum(r.bad_status for r in runs),
        runs=runs,
    )
