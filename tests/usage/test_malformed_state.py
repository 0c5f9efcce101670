"""A usage count or setting that was edited by hand (or by a writer with a bug), in Redis or in
the store: never a 500. A count Redis holds out of range is Redis failing (the setting's fail
open or closed applies); a stored quota the edges cannot show is refused as other malformed
rows are (503 for that key alone)."""

from __future__ import annotations

import json

import pytest

from keyguard import KeyGuard
from keyguard.adapters import RedisRateLimiter
from keyguard.core import MAX_QUOTA

from .conftest import Client, bearer, mint


@pytest.mark.parametrize("guard", ["redis"], indirect=True)
async def test_a_count_out_of_range_in_redis_fails_open_not_500(
    guard: KeyGuard, client_for: Client
) -> None:
    key, key_id = await mint(guard, rate_limits=[], quota={"remaining": 5})
    quota = (await guard.manager.get(key_id)).quota
    assert quota is not None and isinstance(guard.usage.shared, RedisRateLimiter)
    edited = f"{quota.set_at_ms}:{MAX_QUOTA + 10}:{quota.refilled_at_ms}"
    await guard.usage.shared.client.hset(guard.usage.shared.state_key(key_id), "q", edited)
    async with client_for() as client:
        answer = await client.get("/", headers=bearer(key))
    assert answer.status_code == 200  # counted here (fail open, the default)
    assert answer.headers["ratelimit"] == '"quota";r=4'
    assert guard.usage.counted_here == 1


async def test_a_stored_refill_of_no_whole_seconds_is_503_not_500(
    guard: KeyGuard, client_for: Client
) -> None:
    key, key_id = await mint(
        guard, quota={"remaining": 5, "refillAmount": 5, "refillInterval": "1h"}
    )
    other, _ = await mint(guard)
    stored = (await guard.manager.get(key_id)).quota
    assert stored is not None
    edited = {"remaining": 5, "refillAmount": 5, "refillIntervalMs": 1500}
    edited |= {"refilledAtMs": stored.refilled_at_ms, "setAtMs": stored.set_at_ms}
    async with guard.store._session() as runner:  # type: ignore[attr-defined]
        await runner.execute(
            "UPDATE keyguard_keys SET quota = $1 WHERE id = $2", json.dumps(edited), key_id
        )
    async with client_for() as client:
        assert (await client.get("/", headers=bearer(key))).status_code == 503
        assert (await client.get("/", headers=bearer(other))).status_code == 200
