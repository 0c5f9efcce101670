"""The master killed under load: sentinel promotes the replica, and meanwhile two guards
(sharing the test PostgreSQL database and the sentinel URL) answer every request from the
store. No 500, no 200 for a revoked key; afterwards Redis answers lookups again, from the new
master, and a revoke reaches the other guard through the new master's channel."""

from __future__ import annotations

import asyncio
import os
import secrets
import time
from collections.abc import Callable
from typing import Any

import pytest

from tests.e2e._failover import (
    LOCAL_TTL,
    MAX_STALENESS,
    Tiers,
    a_revoke_reaches_b_through_the_channel,
    back_on_redis,
    failover_settings,
    listening,
    true,
)
from tests.e2e._support import InProcess, Load, wait_for
from tests.e2e.conftest import MakeGuard

from ._group import SentinelGroup


async def test_a_failover_under_load_costs_store_lookups_never_a_wrong_answer(
    own_sentinels: SentinelGroup,
    pg_database_url: str,
    make_guard: MakeGuard,
    account: str,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    group = own_sentinels
    prefix = f"kg-failover-{os.getpid()}-{secrets.token_hex(3)}:"
    seen = {"a": Tiers(), "b": Tiers()}
    a, b = [
        await make_guard(failover_settings(pg_database_url, group.url, prefix), observer=seen[name])
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
    await wait_for(
        lambda: true(listening(a) and listening(b)),
        within=10,
        what="both guards to listen",
    )

    async with Load(a, values) as load_a, Load(b, values) as load_b:
        await wait_for(lambda: true("redis" in seen["b"].since(0)), within=10, what="hits")
        group.kill(group.master_port)
        killed = time.monotonic()
        await wait_for(lambda: true(not listening(b)), within=5, what="listening to end")
        await manager.revoke(keys["late"].record.id)  # in the failover window
        revoked_late = time.monotonic()
        assert group.master_port_now() == group.master_port, "promoted before the late revoke"
        await asyncio.to_thread(group.wait_for_master, group.replica_port)
        promoted = time.monotonic()
        for guard in (a, b):  # each back on Redis: hits from it, the breaker closed
            await back_on_redis(guard, seen["a" if guard is a else "b"])
        late = {a.guard.hasher.digest(values["late"])}
        await _store_asked_only_for(late, [a, b], monkeypatch)

    for load in (load_a, load_b):
        assert load.statuses("valid") == {200}
        assert load.statuses("revoked") == {401}
        assert load.statuses("late") <= {200, 401}
    assert load_a.statuses("late", sent_after=revoked_late) == {401}
    assert load_b.statuses("late", sent_after=revoked_late + MAX_STALENESS) == {401}
    during = [t for t, _ in load_b.answers["valid"] if killed < t < promoted]
    assert len(during) >= 10, "too little traffic during the failover"
    assert "store" in seen["b"].since(killed)

    await _a_revoke_reaches_b_through_the_new_master(group, a, b, seen["b"], keys)


async def _store_asked_only_for(
    allowed: set[bytes], guards: list[InProcess], monkeypatch: pytest.MonkeyPatch
) -> None:
    """For several local TTLs, the store is asked for no key but `allowed` (the key revoked
    in the window: its tombstone, rewritten on the new master, keeps it out of Redis)."""
    asked: list[bytes] = []
    for guarded in guards:
        find: Callable[[bytes], Any] = guarded.guard.store.find_by_digest

        async def counted(digest: bytes, find: Callable[[bytes], Any] = find) -> object:
            asked.append(digest)
            return await find(digest)

        monkeypatch.setattr(guarded.guard.store, "find_by_digest", counted)
    await asyncio.sleep(4 * LOCAL_TTL)
    monkeypatch.undo()
    assert set(asked) <= allowed, "the store was still asked after the failover"


async def _a_revoke_reaches_b_through_the_new_master(
    group: SentinelGroup,
    a: InProcess,
    b: InProcess,
    b_seen: Tiers,
    keys: dict[str, Any],
) -> None:
    """The guards listen on the new master, and its channel carries a revoke to b."""
    new_master = group.node(group.replica_port)
    try:
        channel = a.guard.settings.redis_prefix + "changes"
        [(_, subscribers)] = new_master.pubsub_numsub(channel)
        assert subscribers == 2, "the guards' listeners are not on the new master"
    finally:
        new_master.close()
    valid = keys["valid"]
    await a_revoke_reaches_b_through_the_channel(a, b, b_seen, valid.value, valid.record.id)
