"""A master killed under load: the cluster promotes its replica, and meanwhile two guards
(sharing the test PostgreSQL database and the cluster) answer every request, from the store
while Redis cannot. No 500, no 200 for a revoked key, nothing valid refused; afterwards Redis
answers lookups again and the change channel is back.

A module of its own: the kill leaves this module's cluster one master short of a replica."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from typing import Any

from keyguard import Settings
from keyguard.adapters._redis import entry_key
from keyguard.ports import Observer
from tests.e2e._support import PEPPER, InProcess, Load, wait_for
from tests.e2e.conftest import MakeGuard

from ._cluster import Cluster

LOCAL_TTL = 0.2
MAX_STALENESS = 2.0


class Tiers(Observer):
    def __init__(self) -> None:
        self.answers: list[tuple[float, str]] = []
        self.paths: list[str] = []

    def change_applied(self, lag: float | None, path: str) -> None:
        self.paths.append(path)

    def answered(self, tier: str) -> None:
        self.answers.append((time.monotonic(), tier))

    def since(self, since: float) -> set[str]:
        return {tier for at, tier in self.answers if at > since}


def _settings(database_url: str, cluster: Cluster, prefix: str) -> Settings:
    return Settings(
        database_url=database_url,
        redis_url=cluster.url,
        pepper=PEPPER,
        redis_prefix=prefix,
        local_cache_ttl=LOCAL_TTL,
        max_staleness=MAX_STALENESS,
        change_poll_interval=MAX_STALENESS / 4,
        change_notifications=False,  # the channel and the log poll: nothing else brings news
    )


async def _true(value: bool) -> bool:
    return value


def _listening(guarded: InProcess) -> bool:
    cache = guarded.guard.shared_cache
    return cache is not None and bool(cache.listening)


def _taken_over(cluster: Cluster, key: str, dead: int) -> bool:
    """Every live node says the cluster is ok, and a live master serves `key`'s slot."""
    live = cluster.live_ports()
    return (
        dead not in live
        and all(cluster.info(port).get("cluster_state") == "ok" for port in live)
        and cluster.port_of_key(key) in live
    )


async def test_a_master_killed_under_load_costs_store_lookups_never_a_wrong_answer(
    cluster: Cluster, pg_database_url: str, make_guard: MakeGuard, account: str
) -> None:
    prefix = f"kg-failover-{os.getpid()}-{secrets.token_hex(3)}:"
    seen = {"a": Tiers(), "b": Tiers()}
    a, b = [
        await make_guard(_settings(pg_database_url, cluster, prefix), observer=seen[name])
        for name in ("a", "b")
    ]
    manager = a.guard.manager
    keys = {
        label: await manager.create(
            account=account, name=label, environment="live", access="secret"
        )
        for label in ("valid", "revoked", "late")
    }
    await manager.revoke(keys["revoked"].record.id)
    values = {label: created.value for label, created in keys.items()}
    hot = entry_key(prefix, a.guard.hasher.digest(values["valid"]))
    await wait_for(lambda: _true(_listening(a) and _listening(b)), within=10, what="listeners")

    async with Load(a, values) as load_a, Load(b, values) as load_b:
        await wait_for(lambda: _true("redis" in seen["b"].since(0)), within=10, what="hits")
        dead = await asyncio.to_thread(cluster.port_of_key, hot)
        cluster.kill(dead)
        killed = time.monotonic()
        await manager.revoke(keys["late"].record.id)  # in the failover window
        revoked_late = time.monotonic()
        assert await asyncio.to_thread(cluster.port_of_key, hot) == dead, "taken over already"
        deadline = killed + 20
        while not await asyncio.to_thread(_taken_over, cluster, hot, dead):
            assert time.monotonic() < deadline, "the replica did not take over in 20 s"
            await asyncio.sleep(0.1)
        taken_over = time.monotonic()
        for guarded, tiers in ((a, seen["a"]), (b, seen["b"])):
            await _back_on_redis(guarded, tiers)

    for load in (load_a, load_b):
        assert load.statuses("valid") == {200}
        assert load.statuses("revoked") == {401}
        assert load.statuses("late") <= {200, 401}
    assert load_a.statuses("late", sent_after=revoked_late) == {401}
    assert load_b.statuses("late", sent_after=revoked_late + MAX_STALENESS) == {401}
    during = [t for t, _ in load_b.answers["valid"] if killed < t < taken_over]
    assert len(during) >= 10, "too little traffic during the failover"
    assert "store" in seen["b"].since(killed)
    await _a_revoke_reaches_b_through_the_channel(a, b, seen["b"], values["valid"], keys)


async def _a_revoke_reaches_b_through_the_channel(
    a: InProcess, b: InProcess, b_seen: Tiers, value: str, keys: dict[str, Any]
) -> None:
    """After the failover, with b's change-log reads held, only the channel can tell it."""
    held = asyncio.Event()
    read_changes = b.guard.store.read_changes

    async def blocked(*args: Any, **kwargs: Any) -> Any:
        await held.wait()
        return await read_changes(*args, **kwargs)

    b.guard.store.read_changes = blocked  # type: ignore[method-assign]
    try:
        assert await b.status(value) == 200
        paths = len(b_seen.paths)
        await a.guard.manager.revoke(keys["valid"].record.id)
        revoked = time.monotonic()
        await wait_for(lambda: _is(b, value, 401), within=MAX_STALENESS, what="b to refuse")
        assert time.monotonic() - revoked < MAX_STALENESS
        assert b_seen.paths[paths:] == ["redis"]
    finally:
        held.set()
        del b.guard.store.read_changes


async def _is(guarded: InProcess, value: str, status: int) -> bool:
    return await guarded.status(value) == status


async def _back_on_redis(guarded: InProcess, tiers: Tiers) -> None:
    async def back() -> bool:
        shared = guarded.guard.verifier.shared
        return (
            _listening(guarded)
            and not shared.breaker.is_open
            and "redis" in tiers.since(time.monotonic() - LOCAL_TTL)
        )

    await wait_for(back, within=15, what="lookups answered by Redis again")
