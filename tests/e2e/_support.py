"""Real processes and sockets for the end-to-end tests, each with a clean way to stop.

Everything listens on 127.0.0.1 only. Nothing here fakes a server: `RedisServer` is a real
`redis-server`, `TcpProxy` forwards bytes to the real PostgreSQL (stopping it is how a test
makes the store unreachable), `UvicornServer` is a real uvicorn process.
"""

from __future__ import annotations

import asyncio
import math
import time
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx

from keyguard import KeyGuard
from keyguard.adapters._redis_entries import BAD, EntryCodec
from keyguard.core import SHARED_CACHE_MAC_CONTEXT, derive_key
from keyguard.web import APIKeyMiddleware

from ._asgi import PING, build_app
from ._faults import HOST

PEPPER = "e2e-pepper-not-a-secret"


def with_port(url: str, port: int) -> str:
    parts = urlsplit(url)
    netloc = parts.netloc.rsplit("@", 1)
    host = f"{HOST}:{port}"
    return urlunsplit(parts._replace(netloc=f"{netloc[0]}@{host}" if len(netloc) == 2 else host))


CODEC = EntryCodec(derive_key(PEPPER, SHARED_CACHE_MAC_CONTEXT), ttl=60.0)


def says_valid(raw: bytes | str | None, digest: bytes) -> bool:
    """Does this raw Redis entry (under `digest`, written with `PEPPER`) vouch for the key?"""
    if raw is None or not isinstance(raw, bytes) or raw == b"!":  # nothing, or a tombstone
        return False
    decoded = CODEC.decode(digest, raw)
    if decoded is BAD:
        return False
    record, expires_ms = decoded
    return record is not None and record.revoked_at is None and CODEC.fresh(expires_ms)


def summary(delays_s: Sequence[float]) -> str:
    ms = sorted(d * 1000 for d in delays_s)

    def rank(p: float) -> float:  # nearest-rank percentile
        return ms[max(0, math.ceil(p * len(ms)) - 1)]

    median = ms[len(ms) // 2] if len(ms) % 2 else (ms[len(ms) // 2 - 1] + ms[len(ms) // 2]) / 2
    return (
        f"n={len(ms)} min={ms[0]:.1f} median={median:.1f} p95={rank(0.95):.1f}"
        f" p99={rank(0.99):.1f} max={ms[-1]:.1f} (ms)"
    )


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
