"""How a process learns of changes: from the store's change log (here on SQLite, shared by two
guards as two processes would share the file), and what it does with what it learns."""

from __future__ import annotations

import asyncio
import time
from dataclasses import replace
from pathlib import Path

import pytest

from keyguard import KeyGuard, KeyRecord, Settings
from keyguard.services import ChangeMemory, LocalCache, Verdict

from .._records import a_record
from ..e2e._support import Held


def _record(key_id: str = "key_1", version: int = 0) -> KeyRecord:
    return a_record(id=key_id, version=version)


def test_a_change_drops_the_key_under_every_digest_it_was_cached_under() -> None:
    cache = LocalCache(ttl=60)
    cache.put(b"old-pepper", _record())
    cache.put(b"new-pepper", _record())
    cache.put(b"someone-else", _record("key_2"))
    cache.put(b"unknown", None)
    assert cache.discard_key("key_1") == {b"old-pepper", b"new-pepper"}
    assert set(cache.entries) == {b"someone-else", b"unknown"}
    assert cache.discard_key("key_1") == set()


def test_the_key_index_follows_evictions_and_overwrites() -> None:
    cache = LocalCache(ttl=60, max_entries=2)
    cache.put(b"a", _record("key_1"))
    cache.put(b"a", _record("key_2"))  # the digest now holds another record
    cache.put(b"b", _record("key_3"))
    cache.put(b"c", _record("key_4"))  # evicts b"a"
    assert cache.discard_key("key_1") == set()
    assert cache.discard_key("key_2") == set()
    assert cache.discard_key("key_3") == {b"b"}
    assert cache._digests_of == {"key_4": {b"c"}}


def test_an_entry_lives_no_longer_than_it_was_told() -> None:
    now = [100.0]
    cache = LocalCache(ttl=10, clock=lambda: now[0])
    cache.put(b"a", _record(), fresh_until=102.0)  # believed only that long
    now[0] = 101.9
    assert cache.get(b"a") is not None
    now[0] = 102.0
    assert cache.get(b"a") is None


def test_change_memory_refuses_older_copies_for_as_long_as_it_is_kept() -> None:
    now = [0.0]
    memory = ChangeMemory(keep_for=120, clock=lambda: now[0])
    assert not memory.outdated(_record(version=3))
    assert memory.learn("key_1", 5)
    assert not memory.learn("key_1", 4)  # heard of already, by another path
    assert memory.outdated(_record(version=4))
    assert not memory.outdated(_record(version=5))
    assert not memory.outdated(_record("key_2", version=0))
    now[0] = 121.0
    memory.forget_old()
    assert not memory.outdated(_record(version=4))
    assert len(memory) == 0


@pytest.mark.parametrize(
    ("fields", "message"),
    [
        ({"local_cache_ttl": 2.0}, "local_cache_ttl"),
        ({"change_poll_interval": 0.6}, "change_poll_interval"),
        ({"store_timeout": 0}, "store_timeout"),
        ({"change_log_retention": 60.0}, "change_log_retention"),
    ],
)
def test_settings_that_would_break_the_bound_are_refused(
    fields: dict[str, float], message: str
) -> None:
    with pytest.raises(ValueError, match=message):
        Settings(**fields)  # type: ignore[arg-type]


async def test_two_processes_on_one_sqlite_file_see_each_others_revokes_within_the_bound(
    tmp_path: Path,
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/shared.db", pepper="p")
    # The other process keeps keys for 30 s: only the change log can tell it in time.
    lasting = replace(settings, max_staleness=30.0, local_cache_ttl=30.0)
    async with KeyGuard(settings) as here, KeyGuard(lasting) as there:
        for _ in range(5):
            created = await here.manager.create(
                account="a", name="n", environment="test", access="secret"
            )
            assert isinstance(await there.verifier.verify(created.value), KeyRecord)
            await here.manager.revoke(created.record.id)
            since = time.monotonic()
            while (verdict := await there.verifier.verify(created.value)) is not Verdict.INVALID:
                assert isinstance(verdict, KeyRecord)
                assert time.monotonic() - since < 1.0, "past the bound"
                await asyncio.sleep(0.005)


async def test_a_fill_in_flight_when_a_change_arrives_caches_nothing(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/k.db", pepper="p")
    async with KeyGuard(settings) as guard:
        created = await guard.manager.create(
            account="a", name="n", environment="test", access="secret"
        )
        verifier = guard.verifier
        digest = verifier.hasher.digest(created.value)
        with monkeypatch.context() as patched:
            read = Held(patched, guard.store, "find_by_digest")  # reads, then waits
            fill = asyncio.create_task(verifier.verify(created.value))
            await read.wait_entered()
            await guard.manager.revoke(created.record.id)  # heard of while the fill is out
            read.release.set()
            await fill
        entry = verifier.local.get(digest)
        assert entry is None or not entry.usable
        assert await verifier.verify(created.value) is Verdict.INVALID


async def test_a_change_to_one_key_leaves_other_keys_fills_alone(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """Only the changed key's fills are voided: a change elsewhere (a pepper rotation moving
    thousands of keys, say) does not stop every other cold key from being cached."""
    settings = Settings(database_url=f"sqlite:///{tmp_path}/k.db", pepper="p")
    async with KeyGuard(settings) as guard:
        manager, verifier = guard.manager, guard.verifier
        cold = await manager.create(account="a", name="c", environment="test", access="secret")
        other = await manager.create(account="a", name="o", environment="test", access="secret")
        with monkeypatch.context() as patched:
            read = Held(patched, guard.store, "find_by_digest")
            fill = asyncio.create_task(verifier.verify(cold.value))
            await read.wait_entered()
            await manager.rename(other.record.id, "renamed")  # a change, to another key
            read.release.set()
            assert isinstance(await fill, KeyRecord)
        entry = verifier.local.get(verifier.hasher.digest(cold.value))
        assert entry is not None and entry.usable, "the other key's change voided this fill"


async def test_a_change_heard_twice_is_applied_once(tmp_path: Path) -> None:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/k.db", pepper="p")
    async with KeyGuard(settings) as guard:
        created = await guard.manager.create(
            account="a", name="n", environment="test", access="secret"
        )
        await guard.manager.rename(created.record.id, "m")  # heard of here already
        [change] = await guard.store.read_changes(0)
        assert guard.verifier.learn(change) == []  # from the log, or replayed: nothing to do
        assert isinstance(await guard.verifier.verify(created.value), KeyRecord)
        assert guard.verifier.learn(change) == []
        entry = guard.verifier.local.get(guard.verifier.hasher.digest(created.value))
        assert entry is not None and entry.usable
