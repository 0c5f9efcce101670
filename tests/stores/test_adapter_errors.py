"""Every error the drivers can raise, injected where the adapters call them: none escapes as a
crash. From Redis it is a miss (the store answers); from PostgreSQL a 503 on the hot path and
`StoreUnavailableError` from the lifecycle; never a 500, never an identity.

Each class of `redis.exceptions` and `asyncpg.exceptions` is raised in turn, with the Python
errors a decoder or a driver can raise besides (overflow, recursion, bad UTF-8, memory).
"""

from __future__ import annotations

import inspect
from collections.abc import AsyncIterator, Callable
from typing import Any

import asyncpg
import pytest
import redis.exceptions

from keyguard import KeyGuard, KeyRecord, Settings, StoreUnavailableError
from keyguard.services import Verdict

from ..conftest import TEST_PEPPER

PYTHON_ERRORS: list[BaseException] = [
    OSError("boom"),
    TimeoutError(),
    OverflowError("date value out of range"),
    RecursionError("maximum recursion depth exceeded"),
    UnicodeDecodeError("utf-8", b"\xff", 0, 1, "invalid start byte"),
    MemoryError(),
    ValueError("boom"),
]


def _instances(module: object) -> list[BaseException]:
    made: list[BaseException] = []
    for cls in vars(module).values():
        if inspect.isclass(cls) and issubclass(cls, Exception):
            try:
                made.append(cls("boom"))
            except (TypeError, ValueError):
                made.append(cls("1 127.0.0.1:1"))  # cluster redirections name a slot and node
    return made


REDIS_ERRORS = _instances(redis.exceptions) + PYTHON_ERRORS
ASYNCPG_ERRORS = _instances(asyncpg.exceptions) + PYTHON_ERRORS


def _raising(exc: BaseException) -> Callable[..., Any]:
    async def raise_it(*args: object, **kwargs: object) -> object:
        raise exc

    return raise_it


@pytest.fixture
async def guard(pg_database_url: str, redis_url: str, redis_prefix: str) -> AsyncIterator[KeyGuard]:
    settings = Settings(
        database_url=pg_database_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        pepper=TEST_PEPPER,
        local_cache_ttl=0,
    )
    async with KeyGuard(settings) as guard:
        yield guard


async def test_any_error_from_redis_is_a_miss_the_store_answers(
    guard: KeyGuard, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = await guard.manager.create(
        account="errors", name="n", environment="test", access="secret"
    )
    assert isinstance(await guard.verifier.verify(created.value), KeyRecord)  # now in Redis
    client = guard.shared_cache.client  # type: ignore[union-attr]
    for exc in REDIS_ERRORS:
        guard.verifier.shared.breaker.success()  # closed: Redis is asked every time
        with monkeypatch.context() as patched:
            patched.setattr(client, "get", _raising(exc))
            patched.setattr(client, "set", _raising(exc))
            found = await guard.verifier.verify(created.value)
        assert isinstance(found, KeyRecord), (type(exc).__name__, found)


async def test_any_error_from_redis_during_a_revoke_still_revokes(
    guard: KeyGuard, monkeypatch: pytest.MonkeyPatch
) -> None:
    client = guard.shared_cache.client  # type: ignore[union-attr]
    for exc in REDIS_ERRORS[:: max(1, len(REDIS_ERRORS) // 12)]:
        created = await guard.manager.create(
            account="errors", name="n", environment="test", access="secret"
        )
        with monkeypatch.context() as patched:
            patched.setattr(client, "pipeline", _failing_pipeline(exc))
            await guard.manager.revoke(created.record.id)
        assert await guard.verifier.verify(created.value) is Verdict.INVALID, type(exc).__name__


def _failing_pipeline(exc: BaseException) -> Callable[..., Any]:
    class Pipeline:
        async def __aenter__(self) -> Pipeline:
            return self

        async def __aexit__(self, *exc_info: object) -> None:
            return None

        def __getattr__(self, name: str) -> Callable[..., Any]:
            if name == "execute":
                return _raising(exc)
            return lambda *args, **kwargs: None

    return lambda *args, **kwargs: Pipeline()


async def test_any_error_from_postgres_is_unavailable_never_a_crash(
    guard: KeyGuard, monkeypatch: pytest.MonkeyPatch
) -> None:
    created = await guard.manager.create(
        account="errors", name="n", environment="test", access="secret"
    )
    unknown = guard.key_format.generate(created.record.access, "test")
    for exc in ASYNCPG_ERRORS:
        with monkeypatch.context() as patched:
            patched.setattr(asyncpg.Connection, "fetch", _raising(exc))
            patched.setattr(asyncpg.Connection, "execute", _raising(exc))
            assert await guard.verifier.verify(unknown) is Verdict.UNAVAILABLE, type(exc)
            with pytest.raises(StoreUnavailableError):
                await guard.manager.revoke(created.record.id)
    assert isinstance(await guard.verifier.verify(created.value), KeyRecord)  # unharmed
