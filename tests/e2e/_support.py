"""Real processes and sockets for the end-to-end tests, each with a clean way to stop.

Everything listens on 127.0.0.1 only. Nothing here fakes a server: `RedisServer` is a real
`redis-server`, `TcpProxy` forwards bytes to the real PostgreSQL (stopping it is how a test
makes the store unreachable), `UvicornServer` is a real uvicorn process.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import math
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from pathlib import Path
from typing import IO, Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import redis
import redis.asyncio as aioredis

from keyguard import KeyRecord
from keyguard._guard import KeyGuard
from keyguard.web import APIKeyMiddleware

from ._asgi import PING, build_app

PEPPER = "e2e-pepper-not-a-secret"
ROOT = Path(__file__).resolve().parents[2]
HOST = "127.0.0.1"


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind((HOST, 0))
        return int(sock.getsockname()[1])


def clean_env(**extra: str) -> dict[str, str]:
    """This process's environment without any KEYGUARD_* variable, plus `extra`."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("KEYGUARD_")}
    env.update(extra)
    return env


def with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"{HOST}:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


def entry_key(prefix: str, digest: bytes) -> str:
    """Where `RedisKeyCache` keeps the entry for a digest."""
    return f"{prefix}key:{digest.hex()}"


def says_valid(raw: bytes | str | None) -> bool:
    """Does this raw Redis entry tell a reader the key is usable?"""
    if isinstance(raw, str):
        raw = raw.encode()
    if raw is None or raw in (b"!", b"-"):  # nothing, a tombstone, a cached "no such key"
        return False
    return KeyRecord.from_json(json.loads(raw)).revoked_at is None


def summary(delays_s: Sequence[float]) -> str:
    ms = sorted(d * 1000 for d in delays_s)
    p95 = ms[max(0, math.ceil(0.95 * len(ms)) - 1)]
    median = ms[len(ms) // 2] if len(ms) % 2 else (ms[len(ms) // 2 - 1] + ms[len(ms) // 2]) / 2
    return f"n={len(ms)} min={ms[0]:.1f} median={median:.1f} p95={p95:.1f} max={ms[-1]:.1f} (ms)"


async def wait_for(
    check: Callable[[], Awaitable[bool]], *, within: float, what: str, every: float = 0.02
) -> None:
    deadline = time.monotonic() + within
    while not await check():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out after {within} s waiting for {what}")
        await asyncio.sleep(every)


def auth(value: str) -> dict[str, str]:
    return {"Authorization": f"Bearer {value}"}


class InProcess:
    """A guard behind the middleware, called through `httpx.ASGITransport` (no sockets)."""

    def __init__(self, guard: KeyGuard) -> None:
        self.guard = guard
        self.app: APIKeyMiddleware = build_app(guard)
        # raise_app_exceptions=False: an exception escaping the middleware is a 500 here, as a
        # server would answer, so tests can assert "never 5xx" instead of crashing.
        transport = httpx.ASGITransport(app=self.app, raise_app_exceptions=False)
        self.client = httpx.AsyncClient(transport=transport, base_url="http://e2e")

    async def ping(self, value: str) -> httpx.Response:
        return await self.client.get(PING, headers=auth(value))

    async def status(self, value: str) -> int:
        return (await self.ping(value)).status_code

    async def aclose(self) -> None:
        await self.client.aclose()


# --- redis-server ---------------------------------------------------------------------------


class RedisServer:
    """A throwaway `redis-server` on its own port: no persistence, so a restart forgets all."""

    def __init__(self, log_dir: Path) -> None:
        binary = shutil.which("redis-server")
        assert binary is not None, "redis-server is not installed"
        self.binary = binary
        self.port = free_port()
        self.url = f"redis://{HOST}:{self.port}/0"
        self.log_dir = log_dir
        self.process: subprocess.Popen[bytes] | None = None
        self._log: IO[bytes] | None = None
        self.starts = 0

    def start(self) -> None:
        assert self.process is None
        self.starts += 1
        self._log = (self.log_dir / f"redis-{self.port}-{self.starts}.log").open("wb")
        self.process = subprocess.Popen(
            [
                self.binary,
                "--port",
                str(self.port),
                "--bind",
                HOST,
                "--save",
                "",
                "--appendonly",
                "no",
                "--daemonize",
                "no",
            ],
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )
        deadline = time.monotonic() + 15
        client = redis.Redis(host=HOST, port=self.port, socket_connect_timeout=0.5)
        try:
            while True:
                try:
                    if client.ping():
                        return
                except redis.ConnectionError:
                    pass
                if self.process.poll() is not None or time.monotonic() > deadline:
                    raise AssertionError(f"redis-server on port {self.port} did not start")
                time.sleep(0.02)
        finally:
            client.close()

    def kill(self) -> None:
        """SIGKILL: no goodbye to clients, like a crash or a pulled cable."""
        if self.process is not None:
            with contextlib.suppress(ProcessLookupError):
                self.process.send_signal(signal.SIGKILL)
            self.process.wait(timeout=15)
            self.process = None
        if self._log is not None:
            self._log.close()
            self._log = None

    def client(self) -> aioredis.Redis:
        return aioredis.Redis.from_url(self.url, socket_timeout=2, socket_connect_timeout=2)


# --- a TCP proxy in front of PostgreSQL -----------------------------------------------------


class TcpProxy:
    """Forwards 127.0.0.1:port to the upstream. `stop()` closes the listening socket (new
    connections are refused) and aborts every open connection, as a dead server would."""

    def __init__(self, upstream_host: str, upstream_port: int) -> None:
        self.upstream = (upstream_host, upstream_port)
        self.port = free_port()
        self._server: asyncio.Server | None = None
        self._writers: set[asyncio.StreamWriter] = set()
        self._tasks: set[asyncio.Task[None]] = set()

    async def start(self) -> None:
        assert self._server is None
        self._server = await asyncio.start_server(self._accept, HOST, self.port)

    async def _accept(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        try:
            up_reader, up_writer = await asyncio.open_connection(*self.upstream)
        except OSError:
            writer.transport.abort()
            return
        self._writers |= {writer, up_writer}
        pipes = [
            asyncio.create_task(_pipe(reader, up_writer)),
            asyncio.create_task(_pipe(up_reader, writer)),
        ]
        self._tasks.update(pipes)
        try:
            await asyncio.gather(*pipes)
        finally:
            self._tasks.difference_update(pipes)
            self._writers -= {writer, up_writer}
            writer.transport.abort()
            up_writer.transport.abort()

    async def stop(self) -> None:
        if self._server is None:
            return
        server, self._server = self._server, None
        server.close()
        for writer in list(self._writers):
            writer.transport.abort()
        tasks = list(self._tasks)
        for task in tasks:
            task.cancel()
        await asyncio.gather(*tasks, return_exceptions=True)
        await server.wait_closed()


async def _pipe(reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
    try:
        while data := await reader.read(65536):
            writer.write(data)
            await writer.drain()
    except OSError:
        pass
    finally:
        writer.transport.abort()


# --- uvicorn --------------------------------------------------------------------------------


class UvicornServer:
    """`python -m uvicorn tests.e2e.app:app` with the given KEYGUARD_* settings."""

    def __init__(self, name: str, settings: Mapping[str, str], log_dir: Path) -> None:
        self.name = name
        self.port = free_port()
        self.url = f"http://{HOST}:{self.port}"
        self.log_path = log_dir / f"uvicorn-{name}.log"
        self._log = self.log_path.open("wb")
        self.process = subprocess.Popen(
            [
                sys.executable,
                "-m",
                "uvicorn",
                "tests.e2e.app:app",
                "--host",
                HOST,
                "--port",
                str(self.port),
                "--lifespan",
                "on",
                "--no-access-log",
            ],
            cwd=ROOT,
            env=clean_env(**settings),
            stdout=self._log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
        )

    def wait_ready(self, timeout: float = 30.0) -> None:
        """Until it answers a request without a key with 401 (so the middleware is in place)."""
        deadline = time.monotonic() + timeout
        with httpx.Client(trust_env=False, timeout=2.0) as client:
            while True:
                if self.process.poll() is not None:
                    raise AssertionError(f"uvicorn {self.name} exited:\n{self.log()}")
                try:
                    if client.get(self.url + PING).status_code == 401:
                        return
                except httpx.TransportError:
                    pass
                if time.monotonic() > deadline:
                    raise AssertionError(f"uvicorn {self.name} did not answer:\n{self.log()}")
                time.sleep(0.05)

    def log(self) -> str:
        self._log.flush()
        return self.log_path.read_text(errors="replace")[-4000:]

    def stop(self) -> None:
        """SIGTERM (uvicorn's graceful stop, running the lifespan shutdown), then SIGKILL."""
        try:
            if self.process.poll() is None:
                self.process.send_signal(signal.SIGTERM)
                try:
                    self.process.wait(timeout=10)
                except subprocess.TimeoutExpired:
                    self.process.kill()
                    self.process.wait(timeout=10)
        finally:
            self._log.close()


# --- background traffic ---------------------------------------------------------------------


class Load:
    """Requests for each key in turn, in the background, until stopped; every answer is kept
    with the time its request was sent, so a test can ask what was answered when."""

    def __init__(self, target: InProcess, keys: Mapping[str, str], pause: float = 0.01) -> None:
        self.target = target
        self.keys = dict(keys)
        self.pause = pause
        self.answers: dict[str, list[tuple[float, int]]] = {label: [] for label in keys}
        self._task: asyncio.Task[None] | None = None
        self._running = False

    async def __aenter__(self) -> Load:
        self._running = True
        self._task = asyncio.create_task(self._run())
        return self

    async def __aexit__(self, *exc_info: object) -> None:
        self._running = False
        assert self._task is not None
        await self._task  # re-raises anything the traffic itself hit

    async def _run(self) -> None:
        while self._running:
            for label, value in self.keys.items():
                sent = time.monotonic()
                self.answers[label].append((sent, await self.target.status(value)))
            await asyncio.sleep(self.pause)

    def statuses(self, label: str, *, sent_after: float = 0.0) -> set[int]:
        return {status for sent, status in self.answers[label] if sent > sent_after}


# --- wrappers that count or hold calls to the real adapters -----------------------------------


class Counted:
    def __init__(self) -> None:
        self.count = 0


def count_calls(monkeypatch: Any, obj: object, name: str) -> Counted:
    """Count the calls to the coroutine method `obj.name` (which still runs)."""
    original = getattr(obj, name)
    counted = Counted()

    async def counting(*args: Any, **kwargs: Any) -> Any:
        counted.count += 1
        return await original(*args, **kwargs)

    monkeypatch.setattr(obj, name, counting)
    return counted


class Held:
    """Make `obj.name` run, then wait for `release` before returning: a call in flight that a
    test can line up against something else. `before=True` waits before the call instead."""

    def __init__(self, monkeypatch: Any, obj: object, name: str, *, before: bool = False) -> None:
        self.entered = asyncio.Event()
        self.release = asyncio.Event()
        original = getattr(obj, name)

        async def held(*args: Any, **kwargs: Any) -> Any:
            if before:
                self.entered.set()
                await self.release.wait()
                return await original(*args, **kwargs)
            result = await original(*args, **kwargs)
            self.entered.set()
            await self.release.wait()
            return result

        monkeypatch.setattr(obj, name, held)

    async def wait_entered(self) -> None:
        await asyncio.wait_for(self.entered.wait(), timeout=10)
