"""Revocation through the cluster's change channel: two guards (two processes) share the test
PostgreSQL database and the cluster; a key revoked through one is refused by the other within
the bound, and the notice that told it came through Redis (the store's NOTIFY is off and its
change log read only every 5 s here, so nothing else could have been in time)."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator

import pytest

from keyguard import KeyGuard, Settings
from keyguard.ports import Observer

from ..e2e._support import PEPPER, Held, InProcess, wait_for

BOUND = 1.0  # the usual max_staleness: the notice must beat it, with margin


class Changes(Observer):
    def __init__(self) -> None:
        self.paths: list[str] = []

    def change_applied(self, lag: float | None, path: str) -> None:
        self.paths.append(path)


@pytest.fixture
async def two_guards(
    pg_database_url: str, redis_url: str, redis_prefix: str
) -> AsyncIterator[tuple[InProcess, InProcess, Changes]]:
    settings = Settings(
        database_url=pg_database_url,
        redis_url=redis_url,
        pepper=PEPPER,
        redis_prefix=f"{redis_prefix}{secrets.token_hex(3)}:",
        change_notifications=False,
        change_poll_interval=5.0,
        max_staleness=10.0,
        local_cache_ttl=10.0,
    )
    changes = Changes()
    guards = [InProcess(KeyGuard(settings)), InProcess(KeyGuard(settings, observer=changes))]
    try:
        for guarded in guards:
            await guarded.guard.start()
        yield guards[0], guards[1], changes
    finally:
        for guarded in guards:
            await guarded.aclose()
            await guarded.guard.stop()


async def test_a_revoke_reaches_the_other_process_through_the_cluster(
    two_guards: tuple[InProcess, InProcess, Changes],
) -> None:
    revoker, other, changes = two_guards
    cache = other.guard.shared_cache
    assert cache is not None
    await wait_for(lambda: _true(cache.listening), within=10, what="the other listening")
    # The other's reads of the change log wait until the end: only the channel can tell it.
    with pytest.MonkeyPatch.context() as patched:
        held = Held(patched, other.guard.store, "read_changes", before=True)
        await _trials(revoker, other, changes)
        held.release.set()
    assert "log" not in changes.paths


async def _trials(revoker: InProcess, other: InProcess, changes: Changes) -> None:
    for trial in range(5):
        key = await revoker.guard.manager.create(
            account=f"cluster-{secrets.token_hex(4)}", name="n", environment="live", access="secret"
        )
        assert await other.status(key.value) == 200  # now cached in the other, for 10 s
        heard = changes.paths.count("redis")
        await revoker.guard.manager.revoke(key.record.id)
        revoked = time.monotonic()
        while await other.status(key.value) == 200:
            assert time.monotonic() - revoked < BOUND, (trial, changes.paths)
            # A local hit never suspends: without a pause the loop would starve the listener.
            await asyncio.sleep(0.005)
        assert changes.paths.count("redis") == heard + 1, changes.paths


async def _true(value: bool) -> bool:
    return value
