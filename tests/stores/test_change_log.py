"""The change log every process learns of changes from, on both real stores: one row per
change, in the changing transaction, in commit order, pruned by age, never reused."""

from __future__ import annotations

import asyncio
from datetime import timedelta

import pytest

from keyguard import KeyHasher, KeyManager, KeyRecord
from keyguard.ports import REHASHED, KeyStore, StoreChange


async def _all_changes(store: KeyStore, after: int = 0) -> list[StoreChange]:
    return list(await store.read_changes(after, limit=10_000))


async def test_every_change_is_logged_once_with_the_key_and_its_digest(
    manager: KeyManager, store: KeyStore
) -> None:
    start = await store.last_change()
    created = await manager.create(account="log", name="a", environment="live", access="secret")
    assert await store.last_change() == start, "minting a key changes no cached copy"
    digest = manager.hasher.digest(created.value)
    renamed = await manager.rename(created.record.id, "b")
    rolled = await manager.roll(created.record.id, grace=timedelta(0))
    revoked = await manager.revoke(created.record.id)
    await manager.delete(created.record.id)

    changes = await _all_changes(store, start)
    assert [(c.key_id, c.digest, c.event) for c in changes] == [
        (created.record.id, digest, "api_key.renamed"),
        (created.record.id, digest, "api_key.rolled"),
        (created.record.id, digest, "api_key.revoked"),
        (created.record.id, digest, "api_key.deleted"),
    ]
    assert [c.seq for c in changes] == sorted({c.seq for c in changes})
    assert renamed.version == changes[0].seq
    assert revoked.version == changes[2].seq
    assert rolled.record.version == 0  # the successor is new: nothing cached it yet
    assert await store.last_change() == changes[-1].seq


async def test_a_key_read_back_carries_its_version(manager: KeyManager, store: KeyStore) -> None:
    created = await manager.create(account="log", name="a", environment="live", access="secret")
    await manager.revoke(created.record.id)
    found = await store.find_by_digest(manager.hasher.digest(created.value))
    assert found is not None
    assert found.version == await store.last_change()


async def test_a_change_that_rolls_back_logs_nothing(manager: KeyManager, store: KeyStore) -> None:
    created = await manager.create(account="log", name="a", environment="live", access="secret")
    start = await store.last_change()

    async def fail_after_logging() -> None:
        async with store.transaction("log") as tx:
            await tx.record_change(created.record.id, b"d" * 32, "api_key.revoked")
            raise RuntimeError("the change fails after its log row")

    with pytest.raises(RuntimeError):
        await fail_after_logging()
    assert await _all_changes(store, start) == []


async def _revoked_keys(manager: KeyManager, count: int) -> list[str]:
    ids = []
    for n in range(count):
        created = await manager.create(
            account="log", name=f"k{n}", environment="live", access="secret"
        )
        await manager.revoke(created.record.id)
        ids.append(created.record.id)
    return ids


async def test_reads_page_by_seq_and_by_age_on_the_stores_clock(
    manager: KeyManager, store: KeyStore
) -> None:
    start = await store.last_change()
    older = await _revoked_keys(manager, 2)
    await asyncio.sleep(1.0)
    newer = await _revoked_keys(manager, 3)
    first_two = await store.read_changes(start, limit=2)
    assert [c.key_id for c in first_two] == older
    rest = await store.read_changes(first_two[-1].seq, limit=100)
    assert [c.key_id for c in rest] == newer
    recent = await store.read_changes(start, within=0.5)
    assert [c.key_id for c in recent] == newer


async def test_pruning_goes_by_age_in_batches_and_never_reuses_a_seq(
    manager: KeyManager, store: KeyStore, monkeypatch: pytest.MonkeyPatch
) -> None:
    await _revoked_keys(manager, 5)
    newest = await store.last_change()
    assert await store.prune_changes(3600) == 0  # nothing is an hour old
    monkeypatch.setattr("keyguard.adapters._sql_change_log._PRUNE_BATCH", 2)
    # Times are kept to the millisecond: a change made in the same one as the prune is not
    # "older than 0 s" (it failed 1 run in ~20 on SQLite before this wait).
    await asyncio.sleep(0.005)
    assert await store.prune_changes(0) >= 5  # everything made before now, two at a time
    assert await store.read_changes(0) == []
    await _revoked_keys(manager, 1)
    assert await store.last_change() > newest, "a seq was reused after pruning"


async def test_a_move_to_a_new_pepper_is_a_change_and_returns_the_moved_record(
    store: KeyStore,
) -> None:
    old, new = KeyHasher("old"), KeyHasher("new")
    created = await KeyManager(store, hasher=old).create(
        account="log", name="a", environment="live", access="secret"
    )
    start = await store.last_change()
    old_digest, new_digest = old.digest(created.value), new.digest(created.value)
    moved = await store.rehash(created.record.id, old_digest, new_digest, new.version)
    assert isinstance(moved, KeyRecord)
    assert moved.id == created.record.id
    [change] = await _all_changes(store, start)
    assert (change.key_id, change.digest, change.event) == (moved.id, new_digest, REHASHED)
    assert moved.version == change.seq
    # Moved already (by another process, say): nothing to move, nothing logged.
    assert await store.rehash(created.record.id, old_digest, new_digest, new.version) is None
    assert await store.last_change() == change.seq


async def test_a_reader_following_the_log_misses_no_change_under_concurrency(
    manager: KeyManager, store: KeyStore
) -> None:
    """Changes commit from many transactions at once while a reader follows the log from the
    last seq it saw: it must see every one (seq order is commit order)."""
    created = [
        await manager.create(account=f"log{n % 7}", name="k", environment="live", access="secret")
        for n in range(40)
    ]
    start = await store.last_change()
    seen: list[StoreChange] = []
    done = asyncio.Event()

    async def follow() -> None:
        last = start
        while True:
            finished = done.is_set()
            page = await store.read_changes(last, limit=1000)
            if page:
                seen.extend(page)
                last = page[-1].seq
            if finished:
                return
            await asyncio.sleep(0)

    reader = asyncio.create_task(follow())
    await asyncio.gather(*(manager.revoke(c.record.id) for c in created))
    done.set()
    await reader
    assert sorted(c.key_id for c in seen) == sorted(c.record.id for c in created)
