"""The verifier's promises that need no network: single flight, no stale re-insert after a
change, garbage costs nothing, expiry is honoured on a cache hit."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from datetime import timedelta
from pathlib import Path

import pytest

from keyguard import KeyHasher, KeyManager, KeyRecord, SQLiteKeyStore
from keyguard.services import KeyVerifier, LocalCache, Verdict


class SlowStore(SQLiteKeyStore):
    """A real SQLite store whose digest lookups wait for a gate, and are counted."""

    def __init__(self, path: str) -> None:
        super().__init__(path)
        self.gate = asyncio.Event()
        self.gate.set()
        self.lookups = 0

    async def find_by_digest(self, digest: bytes) -> KeyRecord | None:
        self.lookups += 1
        found = await super().find_by_digest(digest)
        await self.gate.wait()
        return found


@pytest.fixture
async def store(tmp_path: Path) -> AsyncIterator[SlowStore]:
    store = SlowStore(str(tmp_path / "k.db"))
    await store.open()
    yield store
    await store.close()


@pytest.fixture
def verifier(store: SlowStore) -> KeyVerifier:
    return KeyVerifier(store, hasher=KeyHasher("p"), local_cache=LocalCache(ttl=60))


@pytest.fixture
def manager(store: SlowStore, verifier: KeyVerifier) -> KeyManager:
    return KeyManager(store, hasher=verifier.hasher, listeners=[verifier.on_key_change])


async def test_concurrent_cold_requests_share_one_fill(
    store: SlowStore, verifier: KeyVerifier, manager: KeyManager
) -> None:
    created = await manager.create(account="a", name="n", environment="test", access="secret")
    store.gate.clear()
    waiting = [asyncio.ensure_future(verifier.verify(created.value)) for _ in range(500)]
    await asyncio.sleep(0.05)
    store.gate.set()
    assert {r.id for r in await asyncio.gather(*waiting)} == {created.record.id}  # type: ignore[union-attr]
    assert store.lookups == 1
    assert await verifier.verify(created.value) == created.record
    assert store.lookups == 1


async def test_a_fill_that_began_before_a_revoke_never_caches_the_key_as_valid(
    store: SlowStore, verifier: KeyVerifier, manager: KeyManager
) -> None:
    created = await manager.create(account="a", name="n", environment="test", access="secret")
    store.gate.clear()
    early = asyncio.ensure_future(verifier.verify(created.value))
    await asyncio.sleep(0.05)  # the fill has read the key, still valid, and waits
    await manager.revoke(created.record.id)
    after = asyncio.ensure_future(verifier.verify(created.value))  # must not join the old fill
    await asyncio.sleep(0.05)
    store.gate.set()
    await early  # concurrent with the revoke: either answer is linearizable
    assert await after is Verdict.INVALID
    assert await verifier.verify(created.value) is Verdict.INVALID
    # Two lookups: the stale one (not cached) and the one after the revoke (cached, revoked).
    assert store.lookups == 2
    entry = verifier.local.get(verifier.hasher.digest(created.value))
    assert entry is not None
    assert not entry.usable


async def test_garbage_costs_no_lookup(store: SlowStore, verifier: KeyVerifier) -> None:
    for garbage in ("", "sk_test_", "sk_test_" + "a" * 38, "xx_test_" + "a" * 38, "ü" * 46):
        assert await verifier.verify(garbage) is Verdict.INVALID
    assert store.lookups == 0
    assert verifier.store_lookups == 0


async def test_unknown_keys_are_negatively_cached(
    store: SlowStore, verifier: KeyVerifier, manager: KeyManager
) -> None:
    created = await manager.create(account="a", name="n", environment="test", access="secret")
    unknown = manager.key_format.generate(created.record.access, "test")
    for _ in range(5):
        assert await verifier.verify(unknown) is Verdict.INVALID
    assert store.lookups == 1


async def test_expiry_is_checked_on_every_cache_hit(
    store: SlowStore, verifier: KeyVerifier, manager: KeyManager
) -> None:
    created = await manager.create(account="a", name="n", environment="test", access="secret")
    await manager.roll(created.record.id, grace=timedelta(milliseconds=300))
    assert isinstance(await verifier.verify(created.value), KeyRecord)
    lookups = store.lookups
    await asyncio.sleep(0.35)
    assert await verifier.verify(created.value) is Verdict.INVALID
    assert store.lookups == lookups  # judged from the cached record, not re-read


async def test_a_revoke_in_this_process_is_seen_at_once(
    verifier: KeyVerifier, manager: KeyManager
) -> None:
    created = await manager.create(account="a", name="n", environment="test", access="secret")
    assert isinstance(await verifier.verify(created.value), KeyRecord)
    await manager.revoke(created.record.id)
    assert await verifier.verify(created.value) is Verdict.INVALID


async def test_a_cancelled_request_does_not_cancel_the_fill_others_wait_on(
    store: SlowStore, verifier: KeyVerifier, manager: KeyManager
) -> None:
    created = await manager.create(account="a", name="n", environment="test", access="secret")
    store.gate.clear()
    first = asyncio.ensure_future(verifier.verify(created.value))
    second = asyncio.ensure_future(verifier.verify(created.value))
    await asyncio.sleep(0.05)
    first.cancel()
    store.gate.set()
    assert await second == created.record


class BrokenStore(SlowStore):
    async def find_by_digest(self, digest: bytes) -> KeyRecord | None:
        raise RuntimeError("relation keyguard_keys does not exist")


async def test_an_unexpected_store_error_is_unavailable_not_a_crash(tmp_path: Path) -> None:
    store = BrokenStore(str(tmp_path / "k.db"))
    await store.open()
    created = await KeyManager(store).create(
        account="a", name="n", environment="test", access="secret"
    )
    verifier = KeyVerifier(store, hasher=KeyHasher())
    assert await verifier.verify(created.value) is Verdict.UNAVAILABLE
    await store.close()
