"""Issue 14's limited keys as the benchmark mints and calls them, and the bare redis-py EVALSHA
each is judged against.

A limited key's local-cache hit makes exactly one Redis round trip, the limit script
(`RedisRateLimiter.decide`, an EVALSHA through redis-py's `Script`), and no store query; an
unlimited key's makes none. The reference replays the very command keyguard sent: the check
records it (script SHA, the key's hash, every argument) by wrapping the client's
`execute_command`, and the reference sends it with `client.evalsha` on the limiter's own client
(same pool, same timeouts), one await per iteration. Both sides then run the same Lua script on
the same hash, so what the ratio shows is keyguard's path around the round trip.

The keys' limits never refuse during a run (`limited_keys.py`).
"""

from __future__ import annotations

import contextlib
import functools
from collections.abc import Awaitable, Callable, Iterator
from typing import Any

from keyguard import APIKeyMiddleware

from .inprocess import Case, Headers, Span, http_scope, respond

__all__ = ["CHECK_REQUESTS", "Commands", "counted", "reference"]

CHECK_REQUESTS = 20  # requests the check sends with every Redis command recorded
Commands = list[tuple[Any, ...]]


def _clients(app: APIKeyMiddleware) -> list[Any]:
    """Every Redis client the app's guard holds (one, shared, as `KeyGuard` builds it)."""
    guard = app.guard
    holders = [guard.shared_cache, guard.usage.shared, guard.failure_limiter]
    clients = {id(c): c for c in (getattr(h, "client", None) for h in holders) if c is not None}
    if not clients:
        raise RuntimeError("the app has no Redis client to watch")
    return list(clients.values())


@contextlib.contextmanager
def _recording(app: APIKeyMiddleware) -> Iterator[Commands]:
    """Every command the app's Redis clients send while open, recorded (then unwrapped)."""
    sent: Commands = []
    clients = _clients(app)
    for client in clients:
        execute = client.execute_command

        async def recorded(*args: Any, _execute: Any = execute, **options: Any) -> Any:
            sent.append(args)
            return await _execute(*args, **options)

        client.execute_command = recorded  # on the instance: the class's method is untouched
    try:
        yield sent
    finally:
        for client in clients:
            del client.execute_command


def counted(
    case: Case, app: APIKeyMiddleware, headers: Headers, *, evalsha: bool, commands: Commands
) -> Case:
    """Make `case` also prove its Redis traffic: `CHECK_REQUESTS` requests each answered 200
    with the RateLimit fields (or without, for an unlimited key) and making exactly one EVALSHA
    (or no Redis command at all). The last command is kept in `commands` for the reference."""
    checked = case.check
    scope = http_scope(headers)

    async def check() -> None:
        await checked()
        with _recording(app) as sent:
            for _ in range(CHECK_REQUESTS):
                seen, fields = await respond(app, dict(scope))
                names = {name for name, _ in fields}
                if seen != [200] or (b"ratelimit" in names) != evalsha:
                    raise RuntimeError(f"{case.name}: answered {seen} with fields {names}")
        want = CHECK_REQUESTS if evalsha else 0
        if len(sent) != want or any(command[0] != "EVALSHA" for command in sent):
            told = [command[0] for command in sent]
            raise RuntimeError(f"{case.name}: {want} EVALSHA expected, Redis was sent {told}")
        commands[:] = sent[-1:]

    case.check = check
    return case


def reference(name: str, app: APIKeyMiddleware, commands: Commands) -> Case:
    """A bare `client.evalsha` of the command the limited case sent (filled by its check, which
    runs first), on the limiter's client: keyguard's round trip with nothing around it."""
    client = getattr(app.guard.usage.shared, "client", None)
    if client is None:
        raise RuntimeError("the app counts usage without Redis")
    call: list[Callable[[], Awaitable[Any]]] = []

    async def batch(n: int) -> Span:
        evalsha = call[0]
        start = Span.start()
        for _ in range(n):
            await evalsha()
        return start.elapsed()

    async def check() -> None:
        if not commands:
            raise RuntimeError(f"{name}: the limited case recorded no EVALSHA")
        _, sha, numkeys, *keys_and_args = commands[0]
        call[:] = [functools.partial(client.evalsha, sha, numkeys, *keys_and_args)]
        reply = await call[0]()
        if not (isinstance(reply, list) and len(reply) > 1 and reply[0] == 1):
            raise RuntimeError(f"{name}: the script did not admit: {reply!r}")

    return Case(name, batch, check)
