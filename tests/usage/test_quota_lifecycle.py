"""A quota through the middleware over its life: refills on the counter's clock (injected
here), a reset from the manager that starts the count over at once, the count written back
to the store, a revoked key's counts dropped; and a publishable key's 429 a page can read."""

from __future__ import annotations

from keyguard import KeyGuard

from .conftest import Client, bearer, mint

HOUR = 3_600_000


async def test_a_quota_refills_on_its_schedule(guard: KeyGuard, client_for: Client) -> None:
    key, key_id = await mint(
        guard, rate_limits=[], quota={"remaining": 1, "refillAmount": 2, "refillInterval": "1h"}
    )
    record = await guard.manager.get(key_id)
    assert record.quota is not None
    now = [record.quota.refilled_at_ms + 10]
    guard.usage.clock_ms = lambda: now[0]
    async with client_for() as client:
        assert (await client.get("/", headers=bearer(key))).status_code == 200
        spent = await client.get("/", headers=bearer(key))
        assert spent.status_code == 429 and "quota" in spent.json()["error"]["message"]
        assert spent.headers["retry-after"] == "3600"  # 3599.99 s, rounded up
        assert spent.headers["ratelimit"] == '"quota";r=0;t=3600'
        now[0] += HOUR - 10  # the refill is due
        codes = [(await client.get("/", headers=bearer(key))).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


async def test_a_reset_starts_the_count_over_at_once(guard: KeyGuard, client_for: Client) -> None:
    key, key_id = await mint(guard, rate_limits=[], quota={"remaining": 1})
    async with client_for() as client:
        assert (await client.get("/", headers=bearer(key))).status_code == 200
        assert (await client.get("/", headers=bearer(key))).status_code == 429
        await guard.manager.limit(key_id, quota={"remaining": 2})
        codes = [(await client.get("/", headers=bearer(key))).status_code for _ in range(3)]
    assert codes == [200, 200, 429]


async def test_the_count_is_written_back_to_the_store(guard: KeyGuard, client_for: Client) -> None:
    key, key_id = await mint(guard, rate_limits=[], quota={"remaining": 5})
    async with client_for() as client:
        for _ in range(2):
            assert (await client.get("/", headers=bearer(key))).status_code == 200
    await guard.quota_writer.flush()
    record = await guard.manager.get(key_id)
    assert record.quota is not None and record.quota.remaining == 3


async def test_a_revoked_key_s_counts_are_dropped(guard: KeyGuard, client_for: Client) -> None:
    key, key_id = await mint(guard, rate_limits=["10/m"], quota={"remaining": 5})
    async with client_for() as client:
        assert (await client.get("/", headers=bearer(key))).status_code == 200
        limiter = guard.usage.shared
        if limiter is not None:
            state = limiter.state_key(key_id)  # type: ignore[attr-defined]
            assert await limiter.client.exists(state)  # type: ignore[attr-defined]
        assert key_id in guard.usage.local._kept or limiter is not None  # type: ignore[attr-defined]
        await guard.manager.revoke(key_id)
        assert (await client.get("/", headers=bearer(key))).status_code == 401
    assert key_id not in guard.usage.local._kept  # type: ignore[attr-defined]
    if limiter is not None:
        assert not await limiter.client.exists(state)  # type: ignore[attr-defined]


async def test_a_publishable_key_s_refusal_is_readable_by_its_page(
    guard: KeyGuard, client_for: Client
) -> None:
    key, _ = await mint(
        guard, access="publishable", rate_limits=["1/m"], allowed_origins=["https://shop.example"]
    )
    headers = bearer(key, origin="https://shop.example")
    async with client_for(publishable_routes=["GET /products"]) as client:
        assert (await client.get("/products", headers=headers)).status_code == 200
        refused = await client.get("/products", headers=headers)
    assert refused.status_code == 429
    assert refused.headers["access-control-allow-origin"] == "https://shop.example"
    exposed = refused.headers["access-control-expose-headers"]
    assert "ratelimit" in exposed and "ratelimit-policy" in exposed and "retry-after" in exposed


async def test_a_roll_hands_out_no_second_quota_nor_rate(
    guard: KeyGuard, client_for: Client
) -> None:
    old, old_id = await mint(guard, rate_limits=["3/m"], quota={"remaining": 2})
    async with client_for() as client:
        assert (await client.get("/", headers=bearer(old))).status_code == 200
        new = (await guard.manager.roll(old_id)).value
        keys = (new, old, new, old)  # the old key works through its grace period
        answers = [await client.get("/", headers=bearer(key)) for key in keys]
        assert [a.status_code for a in answers] == [200, 429, 429, 429]
        assert "quota is spent" in answers[1].json()["error"]["message"]


async def test_a_roll_shares_the_rate_too_through_the_whole_chain(
    guard: KeyGuard, client_for: Client
) -> None:
    first, first_id = await mint(guard, rate_limits=["3/m"])
    async with client_for() as client:
        assert (await client.get("/", headers=bearer(first))).status_code == 200
        second = await guard.manager.roll(first_id)
        third = await guard.manager.roll(second.record.id)
        assert third.record.counted_as == first_id
        keys = (second.value, third.value, first, third.value)
        codes = [(await client.get("/", headers=bearer(key))).status_code for key in keys]
    assert codes == [200, 200, 429, 429]
