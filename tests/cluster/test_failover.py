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

from keyguard.adapters._redis import RedisKeyCache, entry_key
from tests.e2e._failover import (
    MAX_STALENESS,
    Tiers,
    a_revoke_reaches_b_through_the_channel,
    back_on_redis,
    failover_settings,
    listening,
    true,
)
from tests.e2e._support import Load, wait_for
from tests.e2e.conftest import MakeGuard

from ._cluster import Cluster


def _taken_over(cluster: Cluster, key: str, dead: int) -> bool:
    """Every live node says the cluster is ok, and a live master serves `key`'s slot."""
    live = cluster.live_ports()
    return (
        dead not in live
        and all(cluster.info(port).get("cluster_state") == "ok" for port in live)
        and cluster.port_of_key(key) in live
    )


def _digest_on(cluster: Cluster, prefix: str, port: int) -> bytes:
    """A digest of no key whose entry the master on `port` holds."""
    while cluster.port_of_key(entry_key(prefix, digest := secrets.token_bytes(32))) != port:
        pass
    return digest


async def test_a_master_killed_under_load_costs_store_lookups_never_a_wrong_answer(
    cluster: Cluster, pg_database_url: str, make_guard: MakeGuard, account: str
) -> None:
    prefix = f"kg-failover-{os.getpid()}-{secrets.token_hex(3)}:"
    seen = {"a": Tiers(), "b": Tiers()}
    a, b = [
        await make_guard(
            failover_settings(pg_database_url, cluster.url, prefix), observer=seen[name]
        )
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
    await wait_for(lambda: true(listening(a) and listening(b)), within=10, what="listeners")

    # A cache that writes before the kill and makes no call until the takeover is over: its
    # invalidation must find the promoted replica (a failed pipeline left it at the dead one).
    witness = RedisKeyCache.from_url(cluster.url, mac_key=b"k" * 32, prefix=prefix, timeout=0.25)
    async with Load(a, values) as load_a, Load(b, values) as load_b:
        await wait_for(lambda: true("redis" in seen["b"].since(0)), within=10, what="hits")
        dead = await asyncio.to_thread(cluster.port_of_key, hot)
        unused = await asyncio.to_thread(_digest_on, cluster, prefix, dead)
        await witness.invalidate([unused], None)
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
        try:
            await witness.invalidate([unused], None)
            assert await witness.client.get(entry_key(prefix, unused)) == b"!"
        finally:
            await witness.close()
        for guarded, tiers in ((a, seen["a"]), (b, seen["b"])):
            await back_on_redis(guarded, tiers)

    for load in (load_a, load_b):
        assert load.statuses("valid") == {200}
        assert load.statuses("revoked") == {401}
        assert load.statuses("late") <= {200, 401}
    assert load_a.statuses("late", sent_after=revoked_late) == {401}
    assert load_b.statuses("late", sent_after=revoked_late + MAX_STALENESS) == {401}
    during = [t for t, _ in load_b.answers["valid"] if killed < t < taken_over]
    assert len(during) >= 10, "too little traffic during the failover"
    assert "store" in seen["b"].since(killed)
    valid = keys["valid"].record.id
    await a_revoke_reaches_b_through_the_channel(a, b, seen["b"], values["valid"], valid)
