"""Load generators: wrk when installed, else a bounded Python client; and the small HTTP/1.1
client the readiness checks and the revocation probe use.

Every run is bounded: wrk by its duration (and a subprocess timeout on top), the Python client
by a deadline after which it stops sending.
"""

from __future__ import annotations

import asyncio
import re
import time
from collections.abc import Sequence
from dataclasses import dataclass

from .stats import percentile

__all__ = ["Connection", "Load", "http_get", "parse_wrk", "run_python_client", "run_wrk"]

Header = tuple[str, str]


@dataclass
class Load:
    rps: float
    p50_s: float
    p99_s: float
    requests: int
    errors: int  # socket errors and timeouts
    bad_status: int  # answers other than the expected status
    seconds: float
    server_cpu_s: float = 0.0  # CPU time the server's processes used during the run


_UNITS = {"us": 1e-6, "ms": 1e-3, "s": 1.0, "m": 60.0}


def _duration(text: str) -> float:
    number, unit = re.fullmatch(r"([\d.]+)(us|ms|s|m)", text).groups()  # type: ignore[union-attr]
    return float(number) * _UNITS[unit]


def parse_wrk(text: str) -> Load:
    def find(pattern: str) -> re.Match[str] | None:
        return re.search(pattern, text, re.MULTILINE)

    done = find(r"(\d+) requests in ([\d.]+)(us|ms|s|m)")
    rps = find(r"^Requests/sec:\s+([\d.]+)")
    p50, p99 = find(r"^\s+50%\s+(\S+)"), find(r"^\s+99%\s+(\S+)")
    if not (done and rps and p50 and p99):
        raise RuntimeError(f"cannot read wrk's output:\n{text}")
    errors = find(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)")
    bad = find(r"Non-2xx or 3xx responses: (\d+)")
    return Load(
        rps=float(rps.group(1)),
        p50_s=_duration(p50.group(1)),
        p99_s=_duration(p99.group(1)),
        requests=int(done.group(1)),
        errors=sum(int(g) for g in errors.groups()) if errors else 0,
        bad_status=int(bad.group(1)) if bad else 0,
        seconds=_duration(done.group(2) + done.group(3)),
    )


async def run_wrk(
    wrk: str, url: str, headers: Sequence[Header], *, seconds: float, connections: int
) -> Load:
    args = [wrk, "-t1", f"-c{connections}", f"-d{max(1, round(seconds))}s", "--latency"]
    args += ["--timeout", "10s"]  # Argon2 behind one worker queues for seconds
    for name, value in headers:
        args += ["-H", f"{name}: {value}"]
    proc = await asyncio.create_subprocess_exec(
        *args, url, stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.PIPE
    )
    try:
        out, err = await asyncio.wait_for(proc.communicate(), seconds + 20)
    except TimeoutError:
        proc.kill()
        await proc.wait()
        raise
    if proc.returncode != 0:
        raise RuntimeError(f"wrk failed: {err.decode(errors='replace')}")
    return parse_wrk(out.decode())


class Connection:
    """One keep-alive HTTP/1.1 connection: enough of the protocol for GETs with a body length."""

    def __init__(self, host: str, port: int, path: str, headers: Sequence[Header]) -> None:
        self.host, self.port = host, port
        lines = [f"GET {path} HTTP/1.1", f"Host: {host}:{port}"]
        lines += [f"{name}: {value}" for name, value in headers]
        self.request = ("\r\n".join(lines) + "\r\n\r\n").encode()
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    async def get(self) -> tuple[int, bytes]:
        if self._writer is None:
            self._reader, self._writer = await asyncio.open_connection(self.host, self.port)
        assert self._reader is not None
        self._writer.write(self.request)
        head = await self._reader.readuntil(b"\r\n\r\n")
        status = int(head.split(b" ", 2)[1])
        length = re.search(rb"(?i)\r\ncontent-length:\s*(\d+)", head)
        body = await self._reader.readexactly(int(length.group(1))) if length else b""
        return status, body

    async def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
            self._writer = None


async def http_get(
    port: int, path: str, headers: Sequence[Header], *, within: float = 5.0
) -> tuple[int, bytes]:
    conn = Connection("127.0.0.1", port, path, headers)
    try:
        return await asyncio.wait_for(conn.get(), within)
    finally:
        await conn.close()


async def run_python_client(
    port: int,
    path: str,
    headers: Sequence[Header],
    *,
    seconds: float,
    connections: int,
    expect: int = 200,
) -> Load:
    """wrk's job in Python: `connections` keep-alive loops until the deadline."""
    latencies: list[float] = []
    counts = {"errors": 0, "bad": 0}
    deadline = time.monotonic() + seconds

    async def loop() -> None:
        conn = Connection("127.0.0.1", port, path, headers)
        try:
            while time.monotonic() < deadline:
                start = time.perf_counter()
                try:
                    status, _ = await asyncio.wait_for(conn.get(), 10)
                except (OSError, TimeoutError, asyncio.IncompleteReadError):
                    counts["errors"] += 1
                    await conn.close()
                    continue
                latencies.append(time.perf_counter() - start)
                counts["bad"] += status != expect
        finally:
            await conn.close()

    start = time.monotonic()
    await asyncio.gather(*(loop() for _ in range(connections)))
    elapsed = time.monotonic() - start
    if not latencies:
        raise RuntimeError("no request completed")
    return Load(
        rps=len(latencies) / elapsed,
        p50_s=percentile(latencies, 50),
        p99_s=percentile(latencies, 99),
        requests=len(latencies),
        errors=counts["errors"],
        bad_status=counts["bad"],
        seconds=elapsed,
    )
