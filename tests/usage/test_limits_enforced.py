"""A key's rate limits and quota, enforced by the middleware on the cache-miss path and the
cache-hit path alike, counted in this process and in Redis: the header fields on every
response of a limited key (none on an unlimited one), 429 saying rate or quota, defaults from
the settings, and refusals before the count costing nothing."""

from __future__ import annotations

import httpx
import pytest

from keyguard import KeyGuard

from .conftest import Client, bearer, mint


def assert_refused_for_rate(response: httpx.Response) -> None:
    assert response.status_code == 429
    error = response.json()["error"]
    assert error["code"] == "RATE_LIMITED"
    assert "rate limit" in error["message"] and "quota is spent" not in error["message"]
    assert int(response.headers["retry-after"]) >= 1


async def test_a_limited_key_sees_its_limit_on_every_answer(
    guard: KeyGuard, client_for: Client
) -> None:
    key, _ = await mint(guard, rate_limits=["3/m", {"limit": "100/h", "name": "hourly"}])
    async with client_for() as client:
        answers = [await client.get("/", headers=bearer(key)) for _ in range(4)]
    policy = b'"3/m";q=3;w=60, "hourly";q=100;w=3600'.decode()
    for left, answer in zip((2, 1, 0), answers, strict=False):
        assert answer.status_code == 200
        assert answer.headers["ratelimit-policy"] == policy
        assert answer.headers["ratelimit"] == f'"3/m";r={left};t=20'
        assert "retry-after" not in answer.headers
    assert_refused_for_rate(answers[3])
    assert answers[3].headers["ratelimit"] == '"3/m";r=0;t=20'
    assert answers[3].headers["ratelimit-policy"] == policy


async def test_an_unlimited_key_is_never_counted(guard: KeyGuard, client_for: Client) -> None:
    counted: list[str] = []
    for counter in (guard.usage.local, guard.usage.shared):
        if counter is not None:
            real = counter.decide

            async def spy(key_id: str, *args: object, real=real, **kw: object):  # type: ignore[no-untyped-def]
                counted.append(key_id)
                return await real(key_id, *args, **kw)

            counter.decide = spy  # type: ignore[method-assign]
    free, _ = await mint(guard, rate_limits=[])  # opts out of the settings' default
    limited, limited_id = await mint(guard, rate_limits=["50/s"])
    async with client_for() as client:
        for _ in range(5):
            answer = await client.get("/", headers=bearer(free))
            assert answer.status_code == 200 and "ratelimit" not in answer.headers
            assert (await client.get("/", headers=bearer(limited))).status_code == 200
    assert counted == [limited_id] * 5  # one count per request of the limited key alone


async def test_the_settings_default_applies_to_keys_without_their_own(
    guard: KeyGuard, client_for: Client
) -> None:
    live, _ = await mint(guard)  # sk_live: the default is 2/m
    test, _ = await mint(guard, environment="test")  # no default for sk_test
    own, _ = await mint(guard, rate_limits=["5/m"])
    async with client_for() as client:
        lives = [(await client.get("/", headers=bearer(live))).status_code for _ in range(3)]
        tests = [await client.get("/", headers=bearer(test)) for _ in range(3)]
        owns = [(await client.get("/", headers=bearer(own))).status_code for _ in range(3)]
    assert lives == [200, 200, 429]
    assert all(t.status_code == 200 and "ratelimit" not in t.headers for t in tests)
    assert owns == [200, 200, 200]


async def test_a_spent_quota_says_so_and_promises_no_wait(
    guard: KeyGuard, client_for: Client
) -> None:
    key, _ = await mint(guard, rate_limits=[], quota={"remaining": 2})
    async with client_for() as client:
        answers = [await client.get("/", headers=bearer(key)) for _ in range(3)]
    assert [a.status_code for a in answers] == [200, 200, 429]
    assert [a.headers["ratelimit"] for a in answers] == [
        '"quota";r=1',
        '"quota";r=0',
        '"quota";r=0',
    ]
    assert answers[0].headers["ratelimit-policy"] == '"quota";q=2'
    refused = answers[2]
    assert refused.json()["error"]["code"] == "RATE_LIMITED"
    assert "quota is spent" in refused.json()["error"]["message"]
    assert "retry-after" not in refused.headers  # no wait brings it back


async def test_refusals_before_the_count_cost_nothing(guard: KeyGuard, client_for: Client) -> None:
    key, _ = await mint(guard, rate_limits=["1/m"], permissions=["orders:read"])
    table = {"GET /orders": "orders:read", "POST /orders": "orders:write"}
    async with client_for(route_permissions=table) as client:
        for _ in range(3):
            assert (await client.post("/orders", headers=bearer(key))).status_code == 403
            answer = await client.get("/orders", headers=bearer(key, origin="https://a.example"))
            assert answer.status_code == 403  # a secret key from a browser
        assert (await client.get("/orders", headers=bearer(key))).status_code == 200
        assert_refused_for_rate(await client.get("/orders", headers=bearer(key)))


@pytest.mark.parametrize("guard", ["redis"], indirect=True)
async def test_a_limited_key_s_hit_is_one_round_trip_and_no_query(
    guard: KeyGuard, client_for: Client, monkeypatch: pytest.MonkeyPatch
) -> None:
    assert guard.usage.shared is not None
    key, _ = await mint(guard, rate_limits=["100/s"], quota={"remaining": 100})
    async with client_for() as client:
        assert (await client.get("/", headers=bearer(key))).status_code == 200  # fills the cache
        commands: list[object] = []
        client_of_redis = guard.usage.shared.client  # type: ignore[attr-defined]
        real = client_of_redis.execute_command

        async def counted(*args: object, **options: object) -> object:
            commands.append(args[0])
            return await real(*args, **options)

        monkeypatch.setattr(client_of_redis, "execute_command", counted)
        queries: list[bytes] = []
        real_find = guard.store.find_by_digest

        async def find(digest: bytes) -> object:
            queries.append(digest)
            return await real_find(digest)

        monkeypatch.setattr(guard.store, "find_by_digest", find)
        for _ in range(5):
            assert (await client.get("/", headers=bearer(key))).status_code == 200
    assert commands == ["EVALSHA"] * 5 and queries == []
