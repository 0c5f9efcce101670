"""Costs as counts of real calls, not seconds: one store query per cold key per process, no I/O
at all for garbage, and a second process served from Redis."""

from __future__ import annotations

import asyncio
import secrets

import pytest
import redis.asyncio as aioredis

from keyguard import Access, KeyFormat, Settings
from keyguard.adapters._redis import entry_key
from keyguard.core import BASE62_ALPHABET, checksum

from ._support import count_calls, says_valid
from .conftest import MakeGuard

CONCURRENT = 1000


async def test_a_thousand_concurrent_requests_for_a_cold_key_make_one_store_query(
    settings: Settings, make_guard: MakeGuard, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    guarded = await make_guard(settings)
    guard = guarded.guard
    key = await guard.manager.create(
        account=account, name="hot", environment="live", access="secret"
    )
    assert guard.shared_cache is not None
    store_queries = count_calls(monkeypatch, guard.store, "find_by_digest")
    redis_gets = count_calls(monkeypatch, guard.shared_cache, "get")

    responses = await asyncio.gather(*(guarded.ping(key.value) for _ in range(CONCURRENT)))

    assert [r.status_code for r in responses] == [200] * CONCURRENT
    assert {r.json()["id"] for r in responses} == {key.record.id}
    assert guard.verifier.store_lookups == 1
    assert store_queries.count == 1
    assert guard.verifier.shared.lookups == 1
    assert redis_gets.count == 1


def _garbage(value: str) -> dict[str, str]:
    """Near misses of a real key, each caught by the format check alone."""
    access, environment, tail = value.split("_")
    body = tail[:-6]
    other = "A" if value[-1] != "A" else "B"
    changed_body = ("x" if body[0] != "x" else "y") + body[1:]
    random_body = "".join(secrets.choice(BASE62_ALPHABET) for _ in range(32))
    unknown_access = f"xk_{environment}_{body}"
    cases = {
        "bad checksum": value[:-1] + other,
        "body changed, old checksum": f"{access}_{environment}_{changed_body}{tail[-6:]}",
        "one character short": value[:-1],
        "one character long": value + "A",
        "unknown environment": KeyFormat(("prod",)).compose(Access.SECRET, "prod", body),
        "unknown access prefix": unknown_access + checksum(unknown_access),
        "random body, random checksum": f"{access}_{environment}_{random_body}{body[:6]}",
        "not a key at all": "hello",
    }
    fmt = KeyFormat()
    assert not any(fmt.is_well_formed(v) for v in cases.values())
    return cases


async def test_garbage_costs_no_redis_and_no_store_call(
    settings: Settings, make_guard: MakeGuard, account: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    guarded = await make_guard(settings)
    guard = guarded.guard
    key = await guard.manager.create(account=account, name="g", environment="test", access="secret")
    assert guard.shared_cache is not None
    calls = [
        count_calls(monkeypatch, guard.store, "find_by_digest"),
        *(count_calls(monkeypatch, guard.shared_cache, m) for m in ("get", "put", "invalidate")),
    ]

    for label, value in _garbage(key.value).items():
        response = await guarded.ping(value)
        assert response.status_code == 401, label
        assert response.json()["error"]["code"] == "INVALID_API_KEY", label

    assert [c.count for c in calls] == [0, 0, 0, 0]
    assert (guard.verifier.store_lookups, guard.verifier.shared.lookups) == (0, 0)
    assert (await guarded.ping(key.value)).status_code == 200  # and the real key still works


async def test_a_second_process_gets_the_key_from_redis_without_a_store_query(
    settings: Settings,
    make_guard: MakeGuard,
    account: str,
    monkeypatch: pytest.MonkeyPatch,
    redis_url: str,
    redis_prefix: str,
) -> None:
    first = await make_guard(settings)
    second = await make_guard(settings)  # another process, as far as caches go: same settings
    key = await first.guard.manager.create(
        account=account, name="shared", environment="live", access="secret"
    )
    second_queries = count_calls(monkeypatch, second.guard.store, "find_by_digest")

    assert (await first.ping(key.value)).json() == {"id": key.record.id}
    assert first.guard.verifier.store_lookups == 1
    client = aioredis.Redis.from_url(redis_url)
    digest = first.guard.hasher.digest(key.value)
    try:
        raw = await client.get(entry_key(redis_prefix, digest))
    finally:
        await client.aclose()
    assert says_valid(raw, digest), "the cold key's lookup did not fill Redis"

    assert (await second.ping(key.value)).json() == {"id": key.record.id}
    assert second.guard.verifier.store_lookups == 0
    assert second_queries.count == 0
    assert second.guard.verifier.shared.lookups == 1
