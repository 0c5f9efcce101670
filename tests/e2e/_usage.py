"""What the usage-limit end-to-end tests share: where a key's counters live in Redis, the
header fields of a limited key's answers, and two uvicorn servers sharing a database."""

from __future__ import annotations

import re
import time
from collections.abc import Iterable, Iterator, Mapping
from pathlib import Path

import httpx
import redis

from keyguard.adapters._redis_rate_limits import RATE_LIMITS_KEY

from ._servers import UvicornServer
from ._support import PEPPER

__all__ = [
    "LIMIT_FIELDS",
    "counted_in_redis",
    "counters_key",
    "error_of",
    "limit_fields",
    "limited_item",
    "shared_env",
    "two_servers",
    "wait_subscribed",
]

# Every header field a limited key's answer may carry; an unlimited key's carries none.
LIMIT_FIELDS = ("ratelimit-policy", "ratelimit", "retry-after")
# The servers' redis_timeout. The default, 0.25 s, is what production should run; but on a
# machine starved of CPU (two cores, other suites running) one reply in a burst of 80 can take
# longer, and then the servers fail open and count apart for the breaker's 2 s, which is by
# design and not what these tests measure (the fault tests do). `counted_in_redis` names it.
REDIS_TIMEOUT = "2.0"
OUTAGE_LOGGED = "Redis cannot count usage limits"
_ITEM = re.compile(r'^"(?P<name>[^"]+)";r=(?P<r>\d+)(?:;t=(?P<t>\d+))?$')


def shared_env(database_url: str, redis_url: str, prefix: str) -> dict[str, str]:
    """Settings for servers sharing one database and one Redis under this run's prefix."""
    return {
        "KEYGUARD_DATABASE_URL": database_url,
        "KEYGUARD_PEPPER": PEPPER,
        "KEYGUARD_REDIS_PREFIX": prefix,
        "KEYGUARD_REDIS_URL": redis_url,
        "KEYGUARD_REDIS_TIMEOUT": REDIS_TIMEOUT,
    }


def counted_in_redis(servers: Iterable[UvicornServer]) -> None:
    """Every server counted in Redis all along: none failed open (and so counted apart)."""
    for server in servers:
        server.log()  # flushed
        lines = server.log_path.read_text(errors="replace").splitlines()
        down = [line for line in lines if OUTAGE_LOGGED in line]
        assert not down, f"{server.name} could not count in Redis, so counted apart: {down}"


def counters_key(prefix: str, key_id: str) -> str:
    """The Redis hash holding a key's rate-limit TATs and quota count."""
    return f"{prefix}{RATE_LIMITS_KEY}{{{key_id}}}"


def error_of(response: httpx.Response) -> tuple[str, str]:
    """The envelope's error code and message."""
    error = response.json()["error"]
    return error["code"], error["message"]


def limit_fields(response: httpx.Response) -> dict[str, str]:
    return {name: response.headers[name] for name in LIMIT_FIELDS if name in response.headers}


def limited_item(response: httpx.Response) -> tuple[str, int, int | None]:
    """The RateLimit field parsed: the policy it names, its r and its t (None: no t)."""
    match = _ITEM.fullmatch(response.headers["ratelimit"])
    assert match is not None, response.headers["ratelimit"]
    t = match["t"]
    return match["name"], int(match["r"]), None if t is None else int(t)


def two_servers(
    env: Mapping[str, str], logs: Path, channel: str | None, redis_url: str | None
) -> Iterator[tuple[UvicornServer, UvicornServer]]:
    """Two uvicorn processes with the same settings, ready (and, given a channel, both
    listening for invalidations); stopped when the generator is closed."""
    started: list[UvicornServer] = []
    try:
        for name in ("a", "b"):
            started.append(UvicornServer(f"usage-{name}", env, logs))
        for server in started:
            server.wait_ready()
        if channel is not None and redis_url is not None:
            wait_subscribed(redis_url, channel, at_least=2)
        yield started[0], started[1]
    finally:
        for server in started:
            server.stop()


def wait_subscribed(redis_url: str, channel: str, at_least: int) -> None:
    """Until the servers listen for invalidations (their listener starts with the guard, a
    moment after the first answer), so a revoke reaches them at once."""
    client = redis.Redis.from_url(redis_url)
    try:
        deadline = time.monotonic() + 15
        while True:
            (_, count), *_ = client.pubsub_numsub(channel)
            if int(count) >= at_least:
                return
            assert time.monotonic() < deadline, f"only {count} subscribers on {channel}"
            time.sleep(0.02)
    finally:
        client.close()
