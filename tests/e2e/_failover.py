"""What the failover tests (a Redis master killed under load, behind Sentinel or in a
cluster) share: the guards' settings, an observer recording which tier answered and how each
change arrived, and the checks that Redis is back and that its channel carries a revoke."""

from __future__ import annotations

import time

import pytest

from keyguard import Settings
from keyguard.ports import Observer

from ._support import PEPPER, Held, InProcess, wait_for

__all__ = [
    "LOCAL_TTL",
    "MAX_STALENESS",
    "Tiers",
    "a_revoke_reaches_b_through_the_channel",
    "back_on_redis",
    "failover_settings",
    "listening",
    "true",
]

LOCAL_TTL = 0.2
MAX_STALENESS = 2.0


class Tiers(Observer):
    """What answered each lookup, and how each change arrived."""

    def __init__(self) -> None:
        self.answers: list[tuple[float, str]] = []
        self.paths: list[str] = []

    def answered(self, tier: str) -> None:
        self.answers.append((time.monotonic(), tier))

    def change_applied(self, lag: float | None, path: str) -> None:
        self.paths.append(path)

    def since(self, since: float) -> set[str]:
        return {tier for at, tier in self.answers if at > since}


def failover_settings(database_url: str, redis_url: str, prefix: str) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=redis_url,
        pepper=PEPPER,
        redis_prefix=prefix,
        local_cache_ttl=LOCAL_TTL,
        max_staleness=MAX_STALENESS,
        change_poll_interval=MAX_STALENESS / 4,
        change_notifications=False,  # the channel and the log poll: nothing else brings news
    )


async def true(value: bool) -> bool:
    return value


def listening(guarded: InProcess) -> bool:
    """Subscribed to the change channel: what the notices_live gauge reads."""
    cache = guarded.guard.shared_cache
    return cache is not None and bool(cache.listening)


async def back_on_redis(guarded: InProcess, tiers: Tiers) -> None:
    """Listening again, the breaker closed, and lookups answered by Redis."""

    async def back() -> bool:
        shared = guarded.guard.verifier.shared
        return (
            listening(guarded)
            and not shared.breaker.is_open
            and "redis" in tiers.since(time.monotonic() - LOCAL_TTL)
        )

    await wait_for(back, within=15, what="lookups answered by Redis again")


async def a_revoke_reaches_b_through_the_channel(
    a: InProcess, b: InProcess, b_seen: Tiers, value: str, key_id: str
) -> None:
    """With b's change-log reads held, only the channel can tell it, within the bound."""
    with pytest.MonkeyPatch.context() as patched:
        held = Held(patched, b.guard.store, "read_changes", before=True)
        assert await b.status(value) == 200
        paths = len(b_seen.paths)
        await a.guard.manager.revoke(key_id)
        revoked = time.monotonic()
        await wait_for(lambda: _is(b, value, 401), within=MAX_STALENESS, what="b to refuse")
        # b may refuse before the notice comes: its local copy can expire between the
        # tombstone and the notice (a publish retried on another node), and Redis then says
        # "revoked". The notice must still come, within the bound, and be how b heard of it.
        left = MAX_STALENESS - (time.monotonic() - revoked)
        await wait_for(lambda: true(b_seen.paths[paths:] == ["redis"]), within=left, what="notice")
        assert time.monotonic() - revoked < MAX_STALENESS
        held.release.set()


async def _is(guarded: InProcess, value: str, status: int) -> bool:
    return await guarded.status(value) == status
