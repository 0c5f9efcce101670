"""End to end: each app under uvicorn (127.0.0.1, one worker, uvloop) in a process group of its
own, loaded by wrk; requests per second, p50/p99 latency and the server's CPU time per request.
In-process figures leave out the server; this shows what a client of a real server would see.

All servers of a run are started first and stopped last (always, in `finally`), and the load
runs are interleaved across them, round after round, so drift hits them all alike.
"""

from __future__ import annotations

import asyncio
import contextlib
import os
import re
import resource
import signal
import socket
import statistics
import sys
import tempfile
import time
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx

from .apps import PATH
from .cases import auth_header
from .environment import BenchEnv

__all__ = ["LoadSettings", "Server", "load", "machine_ticks", "parse_wrk", "run_e2e", "summary"]

ROOT = Path(__file__).resolve().parent.parent  # `-m benchmarks.server` imports from here
_UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 6e4}  # to milliseconds


@dataclass(frozen=True)
class LoadSettings:
    wrk: str
    http: str  # uvicorn's HTTP parser ("auto" picks httptools when installed)
    seconds: int  # per load run
    rounds: int
    connections: int = 32


class Server:
    def __init__(self, name: str, env: BenchEnv, http: str, workers: int = 1) -> None:
        self.name, self.header = name, auth_header(env, name)
        with socket.socket() as s:
            s.bind(("127.0.0.1", 0))
            self.port = int(s.getsockname()[1])
        self.url = f"http://127.0.0.1:{self.port}{PATH}"
        self.workers = workers
        self._args = [sys.executable, "-m", "benchmarks.server", name, str(self.port), http]
        self._args.append(str(workers))
        self._environ = {**os.environ, "BENCH_ENV": env.to_json()}
        self._log = tempfile.TemporaryFile()  # noqa: SIM115 - lives as long as the server
        self.proc: asyncio.subprocess.Process | None = None

    async def start(self, within: float = 60.0) -> None:
        self.proc = await asyncio.create_subprocess_exec(
            *self._args, cwd=ROOT, env=self._environ, stdout=self._log, stderr=self._log,
            start_new_session=True,
        )  # fmt: skip
        deadline = time.monotonic() + within
        async with httpx.AsyncClient(timeout=10) as client:
            while time.monotonic() < deadline:
                if self.proc.returncode is not None:
                    raise RuntimeError(f"{self.name} exited at start:\n{self._log_tail()}")
                with contextlib.suppress(httpx.TransportError):
                    status = (await client.get(self.url, headers=[self.header])).status_code
                    if status != 200:
                        raise RuntimeError(f"{self.name} answers {status}, not 200")
                    return
                await asyncio.sleep(0.1)
        raise RuntimeError(f"{self.name} not ready in {within} s:\n{self._log_tail()}")

    def _log_tail(self) -> str:
        self._log.seek(0)
        return self._log.read().decode(errors="replace")[-2000:]

    def _signal(self, sig: signal.Signals) -> None:
        assert self.proc is not None
        with contextlib.suppress(ProcessLookupError):
            os.killpg(self.proc.pid, sig)  # the group this run created for this server

    async def stop(self) -> None:
        if self.proc is not None and self.proc.returncode is None:
            self._signal(signal.SIGTERM)
            try:
                await asyncio.wait_for(self.proc.wait(), 10)
            except TimeoutError:
                self._signal(signal.SIGKILL)
                await self.proc.wait()
        self._log.close()

    def cpu_seconds(self) -> float:
        """CPU time used so far by the server's processes (Linux /proc; 0 elsewhere): steadier
        than req/s on a shared machine."""
        return self.usage()[0]

    def usage(self) -> tuple[float, int]:
        """CPU seconds and context switches so far, summed over the server's process group
        (uvicorn's supervisor and its workers); (0, 0) where /proc is not there."""
        assert self.proc is not None
        cpu, switches = 0.0, 0
        for stat in Path("/proc").glob("[0-9]*/stat"):
            with contextlib.suppress(OSError, IndexError, ValueError):
                fields = stat.read_text().rsplit(")", 1)[1].split()
                if int(fields[2]) != self.proc.pid:  # field 5, the process group
                    continue
                cpu += (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
                status = (stat.parent / "status").read_text()
                switches += sum(int(n) for n in re.findall(r"ctxt_switches:\s+(\d+)", status))
        return cpu, switches


def machine_ticks() -> tuple[int, int]:
    """(busy, total) CPU ticks of the whole machine so far, from /proc/stat ((0, 0) elsewhere):
    how busy every core was, whoever kept it busy."""
    with contextlib.suppress(OSError, ValueError):
        ticks = [int(n) for n in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
        return sum(ticks) - ticks[3] - ticks[4], sum(ticks)  # less idle and iowait
    return 0, 0


def parse_wrk(text: str) -> dict[str, float]:
    def find(pattern: str) -> re.Match[str] | None:
        return re.search(pattern, text, re.MULTILINE)

    def ms(match: re.Match[str]) -> float:
        number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", match.group(1)).groups()  # type: ignore[union-attr]
        return float(number) * _UNITS[unit]

    done, rps = find(r"(\d+) requests in"), find(r"^Requests/sec:\s+([\d.]+)")
    p50, p99 = find(r"^\s+50%\s+(\S+)"), find(r"^\s+99%\s+(\S+)")
    if not (done and rps and p50 and p99):
        raise RuntimeError(f"cannot read wrk's output:\n{text}")
    errors = find(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
    bad = find(r"Non-2xx or 3xx responses: (\d+)")
    return {
        "rps": float(rps.group(1)),
        "p50_ms": ms(p50),
        "p99_ms": ms(p99),
        "requests": int(done.group(1)),
        "errors": sum(int(g) for g in errors.groups()) if errors else 0,
        "bad_status": int(bad.group(1)) if bad else 0,
    }


async def load(server: Server, settings: LoadSettings, seconds: int) -> dict[str, float]:
    """One wrk run against `server`, with what it cost: the server's CPU time and context
    switches, wrk's own CPU time, and how busy the whole machine was meanwhile."""
    field, value = server.header
    args = [settings.wrk, "-t1", f"-c{settings.connections}", f"-d{seconds}s", "--latency"]
    args += ["-H", f"{field}: {value}", server.url]
    cpu, switches = server.usage()
    busy, total = machine_ticks()
    children = resource.getrusage(resource.RUSAGE_CHILDREN)  # wrk is the one child reaped
    proc = await asyncio.create_subprocess_exec(
        *args, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), seconds + 20)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {err.decode(errors='replace')}")
    after = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu_after, switches_after = server.usage()
    busy_after, total_after = machine_ticks()
    run = {
        **parse_wrk(out.decode()),
        "server_cpu_s": cpu_after - cpu,
        "server_switches": switches_after - switches,
        "wrk_cpu_s": after.ru_utime + after.ru_stime - children.ru_utime - children.ru_stime,
        "machine_busy": (busy_after - busy) / max(1, total_after - total),
    }
    await asyncio.sleep(0.2)  # what wrk left in flight is served before the next run starts
    return run


async def run_e2e(
    names: Sequence[str], env: BenchEnv, settings: LoadSettings, *, deadline: float
) -> dict[str, dict[str, Any]]:
    """Every server started, a warm-up per server, then rounds of one load run per server
    (A B C A B C ...); after the first round, no new round starts past the monotonic
    `deadline`. The servers are stopped whatever happens; the figures are by app name."""
    running = [Server(name, env, settings.http) for name in names]
    try:
        for server in running:  # one at a time: a failed start leaves no other half-started
            await server.start()
        for server in running:  # untimed: pools filled, caches warm, code paths hot
            await load(server, settings, 1)
        runs: dict[str, list[dict[str, float]]] = {server.name: [] for server in running}
        for index in range(settings.rounds):
            if index and time.monotonic() > deadline:
                break
            for server in running:
                runs[server.name].append(await load(server, settings, settings.seconds))
    finally:
        await asyncio.gather(*(server.stop() for server in running), return_exceptions=True)
    return {name: summary(done) for name, done in runs.items()}


def summary(runs: list[dict[str, float]]) -> dict[str, Any]:
    def median(field: str) -> float:
        return statistics.median(run[field] for run in runs)

    return {
        "rps": median("rps"),
        "p50_ms": median("p50_ms"),
        "p99_ms": median("p99_ms"),
        "cpu_us": statistics.median(r["server_cpu_s"] / max(1, r["requests"]) * 1e6 for r in runs),
        "switches_per_req": statistics.median(
            r["server_switches"] / max(1, r["requests"]) for r in runs
        ),
        # cores: CPU seconds over the run's seconds (requests / req/s)
        "wrk_cores": statistics.median(
            r["wrk_cpu_s"] * r["rps"] / max(1, r["requests"]) for r in runs
        ),
        "machine_busy": median("machine_busy"),
        "errors": sum(run["errors"] for run in runs),
        "bad_status": sum(run["bad_status"] for run in runs),
        "runs": runs,
    }
