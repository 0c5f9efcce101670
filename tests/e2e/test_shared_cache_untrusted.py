"""Redis is shared, not trusted: whatever an entry holds, the worst it can do is send a lookup
to the store. A corrupt entry is a miss and is deleted (never a 500, and the breaker stays
closed for every other key); a forged, altered, copied or replayed entry is never believed.

Entries are written straight into the real Redis under the guard's prefix, as a buggy writer
(signed with the pepper) or an attacker with write access to Redis (no pepper) would.
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from dataclasses import replace
from typing import Any

import pytest
import redis.asyncio as aioredis

from keyguard import CreatedKey, Settings
from keyguard.adapters._redis import entry_key
from keyguard.adapters._redis_entries import EntryCodec
from keyguard.core import SHARED_CACHE_MAC_CONTEXT, derive_key, detail_view, utcnow

from ._support import CODEC, InProcess, says_valid, wait_for
from .conftest import MakeGuard

Body = Callable[[dict[str, Any]], bytes]


async def _entry(client: aioredis.Redis, guarded: InProcess, created: CreatedKey) -> bytes:
    """The guard's own entry for the key, once a request has filled it."""
    guarded.guard.verifier.local.clear()
    assert await guarded.status(created.value) in (200, 401, 403)
    raw = await client.get(_where(guarded, created))
    assert isinstance(raw, bytes) and raw != b"!", raw
    return raw


def _where(guarded: InProcess, created: CreatedKey) -> str:
    prefix = guarded.guard.settings.redis_prefix
    return entry_key(prefix, guarded.guard.hasher.digest(created.value))


def _fields(raw: bytes) -> dict[str, Any]:
    return json.loads(raw[32:])  # type: ignore[no-any-return]


def _resealed(raw: bytes, digest: bytes, change: Callable[[dict[str, Any]], Any]) -> bytes:
    """The entry with its fields changed and a valid MAC: a writer that has the pepper."""
    fields = _fields(raw)
    change(fields)
    return CODEC.seal(digest, json.dumps(fields).encode())


def _later(ms: int) -> Callable[[dict[str, Any]], None]:
    """Move an entry's own expiry to `ms` from now."""
    return lambda fields: fields.update(x=int(time.time() * 1000) + ms)


DEEP = b'{"x": 1, "r": {"m": ' + b"[" * 30_000 + b"]" * 30_000 + b"}}"
# Each signed with the pepper, as keyguard itself would: a writer with a bug, or a value that
# cannot be decoded. Before entries were checked, the first two answered 500.
SIGNED_BUT_BROKEN: dict[str, Callable[[bytes, bytes], bytes]] = {
    "date past year 9999": lambda raw, d: _resealed(raw, d, lambda f: f["r"].update(c=10**20)),
    "nested past the recursion limit": lambda raw, d: CODEC.seal(d, DEEP),
    "not UTF-8": lambda raw, d: CODEC.seal(d, b'{"x": "\xff\xfe"}'),
    "a list, not an object": lambda raw, d: CODEC.seal(d, b"[1, 2, 3]"),
    "an unknown access": lambda raw, d: _resealed(raw, d, lambda f: f["r"].update(k="root")),
    "a version that is text": lambda raw, d: _resealed(raw, d, lambda f: f["r"].update(v="9")),
    "a negative time": lambda raw, d: _resealed(raw, d, lambda f: f["r"].update(c=-1)),
    "over 64 KiB": lambda raw, d: CODEC.seal(d, b" " * 70_000),
    "living longer than entries may": lambda raw, d: _resealed(raw, d, _later(10**9)),
    "past its own expiry": lambda raw, d: _resealed(raw, d, _later(-1_000)),
    "truncated": lambda raw, d: raw[:-3],
}


@pytest.mark.parametrize("case", SIGNED_BUT_BROKEN)
async def test_a_broken_entry_is_a_miss_not_a_500_and_is_deleted(
    case: str,
    settings: Settings,
    make_guard: MakeGuard,
    account: str,
    redis_client: aioredis.Redis,
) -> None:
    guarded = await make_guard(settings)
    manager = guarded.guard.manager
    key = await manager.create(account=account, name="k", environment="live", access="secret")
    other = await manager.create(account=account, name="o", environment="live", access="secret")
    digest = guarded.guard.hasher.digest(key.value)
    raw = await _entry(redis_client, guarded, key)
    await redis_client.set(_where(guarded, key), SIGNED_BUT_BROKEN[case](raw, digest), px=60_000)

    for _ in range(3):
        guarded.guard.verifier.local.clear()
        assert await guarded.status(key.value) == 200, case  # the store answered instead
        assert await guarded.status(other.value) == 200
    assert not guarded.guard.verifier.shared.breaker.is_open, "a bad entry opened the breaker"
    fixed = await redis_client.get(_where(guarded, key))
    assert says_valid(fixed, digest), "the broken entry was not replaced"


async def test_an_entry_that_cannot_be_decoded_for_lack_of_memory_is_a_miss(
    settings: Settings,
    make_guard: MakeGuard,
    account: str,
    redis_client: aioredis.Redis,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    guarded = await make_guard(settings)
    key = await guarded.guard.manager.create(
        account=account, name="k", environment="live", access="secret"
    )
    await _entry(redis_client, guarded, key)
    guarded.guard.verifier.shared.lookups = 0
    cache = guarded.guard.shared_cache
    cache._decoded.clear()  # type: ignore[union-attr]

    def out_of_memory(_: object) -> object:
        raise MemoryError

    monkeypatch.setattr("keyguard.adapters._redis_entries._record", out_of_memory)
    guarded.guard.verifier.local.clear()
    assert await guarded.status(key.value) == 200
    assert guarded.guard.verifier.shared.lookups == 1


def _attacker_codec() -> EntryCodec:
    """What someone with write access to Redis but not the pepper can sign with."""
    return EntryCodec(derive_key("a guess", SHARED_CACHE_MAC_CONTEXT), ttl=60.0)


async def test_a_forged_entry_cannot_bring_back_a_revoked_key(
    settings: Settings, make_guard: MakeGuard, account: str, redis_client: aioredis.Redis
) -> None:
    """Finding 5: a revoked key's entry rewritten with `revokedAt: null`, signed with anything
    but the pepper, or in the shape entries had before they were signed."""
    guarded = await make_guard(settings)
    manager = guarded.guard.manager
    key = await manager.create(account=account, name="k", environment="live", access="secret")
    digest = guarded.guard.hasher.digest(key.value)
    valid = await _entry(redis_client, guarded, key)
    await manager.revoke(key.record.id)
    fields = _fields(valid)
    fields["r"]["v"] = 2**62  # newer than any change: only the MAC can refuse it
    forged_fields = json.dumps(fields).encode()
    old_shape = json.dumps({**detail_view(key.record, utcnow()), "revokedAt": None}).encode()
    for forged in (
        _attacker_codec().seal(digest, forged_fields),
        valid[:32] + forged_fields,  # the MAC of another body
        old_shape,
    ):
        await redis_client.set(_where(guarded, key), forged, px=60_000)
        guarded.guard.verifier.local.clear()
        assert await guarded.status(key.value) == 401
        fresh = await make_guard(settings)  # a process with nothing cached at all
        assert await fresh.status(key.value) == 401


async def test_a_forged_entry_cannot_make_up_a_key(
    settings: Settings, make_guard: MakeGuard, account: str, redis_client: aioredis.Redis
) -> None:
    """A well-formed key the store never had, given an entry claiming it is valid: only the
    MAC stands in the way (no change was ever heard of for it)."""
    guarded = await make_guard(settings)
    real = await guarded.guard.manager.create(
        account=account, name="k", environment="live", access="secret"
    )
    fields = _fields(await _entry(redis_client, guarded, real))
    made_up = guarded.guard.key_format.generate(real.record.access, "live")
    digest = guarded.guard.hasher.digest(made_up)
    where = entry_key(guarded.guard.settings.redis_prefix, digest)
    await redis_client.set(where, _attacker_codec().seal(digest, json.dumps(fields).encode()))
    assert await guarded.status(made_up) == 401


async def test_a_publishable_key_cannot_be_made_secret_in_redis(
    settings: Settings, make_guard: MakeGuard, account: str, redis_client: aioredis.Redis
) -> None:
    guarded = await make_guard(settings)
    key = await guarded.guard.manager.create(
        account=account, name="pk", environment="live", access="publishable"
    )
    digest = guarded.guard.hasher.digest(key.value)
    raw = await _entry(redis_client, guarded, key)  # the ping route is not publishable: 403
    fields = _fields(raw)
    fields["r"]["k"] = "secret"
    await redis_client.set(
        _where(guarded, key), _attacker_codec().seal(digest, json.dumps(fields).encode())
    )
    guarded.guard.verifier.local.clear()
    assert await guarded.status(key.value) == 403


async def test_one_keys_entry_copied_under_another_keys_digest_is_not_believed(
    settings: Settings, make_guard: MakeGuard, account: str, redis_client: aioredis.Redis
) -> None:
    guarded = await make_guard(settings)
    manager = guarded.guard.manager
    good = await manager.create(account=account, name="g", environment="live", access="secret")
    gone = await manager.create(account=account, name="r", environment="live", access="secret")
    await manager.revoke(gone.record.id)
    await redis_client.set(_where(guarded, gone), await _entry(redis_client, guarded, good))
    guarded.guard.verifier.local.clear()
    assert await guarded.status(gone.value) == 401


async def test_an_entry_saved_before_a_revoke_and_written_back_is_not_believed(
    settings: Settings, make_guard: MakeGuard, account: str, redis_client: aioredis.Redis
) -> None:
    """Correctly signed, unexpired, and stale: every process that heard of the revoke (this
    one, one that was running, one started after it) refuses it."""
    guarded = await make_guard(settings)
    running = await make_guard(settings)
    manager = guarded.guard.manager
    key = await manager.create(account=account, name="k", environment="live", access="secret")
    saved = await _entry(redis_client, guarded, key)
    await manager.revoke(key.record.id)
    await redis_client.set(_where(guarded, key), saved, px=60_000)
    started_after = await make_guard(settings)  # remembers recent changes from the log
    # The running one may take up to the bound to hear of it: that is the promise.
    await wait_for(
        lambda: _true(running.guard.verifier.memory.outdated(key.record)),
        within=1.0,
        what="the running process to hear of the revoke",
    )
    for process in (guarded, running, started_after):
        for _ in range(3):
            process.guard.verifier.local.clear()
            assert await process.status(key.value) == 401


async def _true(value: bool) -> bool:
    return value


async def test_redis_without_a_pepper_is_warned_about_at_start_up(
    settings: Settings, make_guard: MakeGuard, caplog: pytest.LogCaptureFixture
) -> None:
    """Without a pepper the MAC key is public, and Redis write access is a way in."""
    await make_guard(replace(settings, pepper=None))
    said = [r.getMessage() for r in caplog.records if r.levelname == "WARNING"]
    assert any("no pepper is set" in line for line in said), said
