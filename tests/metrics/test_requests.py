"""`keyguard_requests_total`: one count per checked request, labelled by how the check ended,
from the middleware's `decided` report; never by key."""

from __future__ import annotations

import httpx

from keyguard import Access, KeyFormat, KeyGuard
from keyguard.adapters import LocalFailureLimiter
from keyguard.metrics import PrometheusMetrics
from keyguard.testing import mint

from ._support import REQUESTS, app_for, bearer, client_for, requests, series

FIVE_SECONDS_INTO_A_WINDOW = 1_800_000_005.0


async def test_requests_count_by_access_and_environment(
    guard: KeyGuard, metrics: PrometheusMetrics, client: httpx.AsyncClient
) -> None:
    secret = await mint(guard)
    live = await mint(guard, access="publishable", environment="live")
    for _ in range(3):
        assert (await client.get("/ping", headers=bearer(secret))).status_code == 200
    assert (await client.get("/ping", headers=bearer(live))).status_code == 200
    assert (await client.post("/ping", headers=bearer(live))).status_code == 403
    assert requests(metrics, "accepted", access="secret", environment="test") == 3
    assert requests(metrics, "accepted", access="publishable", environment="live") == 1
    forbidden = {"code": "FORBIDDEN", "access": "publishable", "environment": "live"}
    assert requests(metrics, "forbidden", **forbidden) == 1
    assert sum(series(metrics, REQUESTS).values()) == 5


async def test_refusals_count_by_reason_and_code(
    guard: KeyGuard, metrics: PrometheusMetrics, client: httpx.AsyncClient
) -> None:
    unknown = KeyFormat().generate(Access.SECRET, "test")  # well formed, never minted
    assert (await client.get("/ping")).status_code == 401
    for token in ("garbage", unknown, unknown):
        assert (await client.get("/ping", headers=bearer(token))).status_code == 401
    assert (await client.get("/ping?key=" + unknown)).status_code == 401
    assert requests(metrics, "missing") == 1
    assert requests(metrics, "invalid") == 3
    assert requests(metrics, "key_in_url") == 1
    assert sum(series(metrics, REQUESTS).values()) == 5


async def test_a_revoked_key_is_refused_as_invalid(
    guard: KeyGuard, metrics: PrometheusMetrics, client: httpx.AsyncClient
) -> None:
    created = await guard.manager.create(
        account="acme", name="doomed", environment="test", access="secret"
    )
    assert (await client.get("/ping", headers=bearer(created.value))).status_code == 200
    await guard.manager.revoke(created.record.id, actor="test")
    assert (await client.get("/ping", headers=bearer(created.value))).status_code == 401
    assert requests(metrics, "accepted", access="secret", environment="test") == 1
    assert requests(metrics, "invalid") == 1


async def test_a_valid_key_over_its_rate_or_quota_keeps_its_labels(
    guard: KeyGuard, metrics: PrometheusMetrics, client: httpx.AsyncClient
) -> None:
    fast = await mint(guard, rate_limits=["2/m"])
    spent = await mint(guard, environment="live", quota={"remaining": 1})
    statuses = [(await client.get("/ping", headers=bearer(fast))).status_code for _ in range(3)]
    statuses += [(await client.get("/ping", headers=bearer(spent))).status_code for _ in range(2)]
    assert statuses == [200, 200, 429, 200, 429]
    refused = {"code": "RATE_LIMITED", "access": "secret"}
    assert requests(metrics, "over_rate", environment="test", **refused) == 1
    assert requests(metrics, "quota_spent", environment="live", **refused) == 1
    assert requests(metrics, "accepted", access="secret", environment="test") == 2
    assert requests(metrics, "accepted", access="secret", environment="live") == 1


async def test_the_failed_attempt_limiter_shows_as_rate_limited(
    guard: KeyGuard, metrics: PrometheusMetrics
) -> None:
    """Limit 2 failures from one address, on a stopped clock: the third unknown key from it
    is refused before any lookup, as `reason="rate_limited"`."""
    limiter = LocalFailureLimiter(limit=2, clock=lambda: FIVE_SECONDS_INTO_A_WINDOW)
    unknown = [KeyFormat().generate(Access.SECRET, "test") for _ in range(4)]
    async with client_for(app_for(guard, failure_limiter=limiter)) as client:
        statuses = [(await client.get("/ping", headers=bearer(k))).status_code for k in unknown]
    assert statuses == [401, 401, 429, 429]
    assert requests(metrics, "invalid") == 2
    assert requests(metrics, "rate_limited", code="RATE_LIMITED") == 2


async def test_no_series_is_labelled_by_key(
    guard: KeyGuard, metrics: PrometheusMetrics, client: httpx.AsyncClient
) -> None:
    """Ten keys, one series: the key id (unbounded) is never a label."""
    keys = [await mint(guard) for _ in range(10)]
    for key in keys:
        assert (await client.get("/ping", headers=bearer(key))).status_code == 200
    assert series(metrics, REQUESTS) == {
        (
            ("access", "secret"),
            ("code", ""),
            ("environment", "test"),
            ("outcome", "accepted"),
            ("reason", "accepted"),
        ): 10.0
    }
