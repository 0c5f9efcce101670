"""The hooks of a guard that shares Redis with others (real Redis, a prefix per test): what one
guard put in the shared cache answers another ("redis"), every Redis call (cache, failed-attempt
limiter, usage limiter) is reported, and one that fails is reported as failed, the exception
passing through the hook, while the request still gets its documented answer (never a 500)."""

from __future__ import annotations

import secrets
import socket
from collections.abc import AsyncIterator
from pathlib import Path
from unittest.mock import ANY

import pytest

from keyguard import KeyGuard, Settings

from ._recording import RecordingObserver
from .conftest import QUIET, Client, bearer, mint

GET = ("redis", "cache.get")
ACQUIRE = ("redis", "failures.acquire")
RELEASE = ("redis", "failures.release")


def ok(*call: str) -> list[tuple[object, ...]]:
    return [("call", *call), ("call.exit", *call, None)]


@pytest.fixture
def shared(tmp_path: Path, redis_url: str, redis_prefix: str) -> Settings:
    """One store and one Redis prefix, for any number of guards."""
    return Settings(
        database_url=f"sqlite:///{tmp_path}/k.db",
        redis_url=redis_url,
        redis_prefix=f"{redis_prefix}{secrets.token_hex(3)}:",
        pepper="observe",
        **QUIET,
    )


@pytest.fixture
async def guards(shared: Settings) -> AsyncIterator[tuple[KeyGuard, KeyGuard]]:
    """Two guards, as two processes would be, each with its own recorder."""
    a = KeyGuard(shared, observer=RecordingObserver())
    b = KeyGuard(shared, observer=RecordingObserver())
    await a.start()
    await b.start()
    yield a, b
    await b.stop()
    await a.stop()


def recorder_of(guard: KeyGuard) -> RecordingObserver:
    assert isinstance(guard.observer, RecordingObserver)
    return guard.observer


async def test_what_one_guard_cached_in_redis_answers_another(
    guards: tuple[KeyGuard, KeyGuard], client_for: Client
) -> None:
    a, b = guards
    key, key_id = await mint(a, rate_limits=["5/m"])
    for guard in guards:
        recorder_of(guard).take()
    async with client_for(a) as client:
        assert (await client.get("/", headers=bearer(key))).status_code == 200
    assert recorder_of(a).shape()[1:-2] == [
        *ok(*GET),
        *ok(*ACQUIRE),
        *ok("store", "find_by_digest"),
        ("answered", "store"),
        *ok("redis", "cache.put"),  # for every other guard
        *ok(*RELEASE),
        *ok("redis", "usage.decide"),  # the key has a rate limit: counted in Redis
    ]
    async with client_for(b) as client:
        assert (await client.get("/", headers=bearer(key))).status_code == 200
    seen_by_b = recorder_of(b)
    assert seen_by_b.shape()[1:-2] == [
        *ok(*GET),
        ("answered", "redis"),  # no store call, no failed-attempt slot
        *ok("redis", "usage.decide"),
    ]
    assert seen_by_b.shape()[-2:] == [("decided", "accepted", 0), ("app", ANY)]
    assert [d.key_id for d in seen_by_b.decisions()] == [key_id]
    assert [hook.name for hook in recorder_of(a).hooks].count("answered") == 1


async def test_a_wrong_key_is_counted_in_redis_and_reported(
    guards: tuple[KeyGuard, KeyGuard], client_for: Client
) -> None:
    a, _ = guards
    recorder_of(a).take()
    async with client_for(a) as client:
        assert (await client.get("/", headers=bearer("sk_test_nonsense"))).status_code == 401
    assert recorder_of(a).shape() == [
        ("verifying",),
        *ok("redis", "failures.record_failure"),
        ("decided", "invalid", 401),
    ]


def dead_redis_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{probe.getsockname()[1]}/0"  # closed again: nobody answers


@pytest.mark.parametrize("failure", ["open", "closed"])
async def test_a_redis_call_that_fails_is_reported_failed_and_the_answer_is_documented(
    tmp_path: Path, client_for: Client, recorder: RecordingObserver, failure: str
) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/k.db",
        redis_url=dead_redis_url(),
        pepper="observe",
        rate_limit_failure=failure,
        **QUIET,
    )
    async with KeyGuard(settings, observer=recorder) as guard, client_for(guard) as client:
        plain, plain_id = await mint(guard)
        limited, _ = await mint(guard, rate_limits=["5/m"])
        recorder.take()
        assert (await client.get("/", headers=bearer(plain))).status_code == 200
        shape = recorder.shape()
        assert shape[1:3] == [("call", *GET), ("call.exit", *GET, "CacheUnavailableError")]
        assert ("answered", "store") in shape and not recorder.named("answered")[1:]
        failed = [hook for hook in recorder.named("call.exit") if hook.args[2] is not None]
        assert [hook.args[:2] for hook in failed] == [GET]  # nothing else failed, or was hidden
        assert [d.key_id for d in recorder.decisions()] == [plain_id]
        recorder.take()
        answer = await client.get("/", headers=bearer(limited))
        counted = [
            hook
            for hook in recorder.named("call.exit")
            if hook.args[:2] == ("redis", "usage.decide")
        ]
        assert len(counted) == 1 and type(counted[0].args[2]).__name__ == "CacheUnavailableError"
        (decision,) = recorder.decisions()
        if failure == "open":  # counted in this process instead
            assert (answer.status_code, decision.reason) == (200, "accepted")
        else:
            assert (answer.status_code, decision.reason) == (503, "uncounted")
            assert decision.status == 503 and decision.key_id is not None
        assert guard.gauges().breakers_open == {"shared_cache": False, "usage_limits": False}
        for _ in range(3):  # fresh keys, each a cache.get that fails: the breaker opens
            fresh, _ = await mint(guard)
            assert (await client.get("/", headers=bearer(fresh))).status_code == 200
        assert guard.gauges().breakers_open["shared_cache"] is True
