"""`keyguard_lookups_total` by tier, `keyguard_store_seconds` around each store call, and
`keyguard_call_errors_total` for calls that raise."""

from __future__ import annotations

import asyncio

import httpx
import pytest

from keyguard import Access, KeyFormat, KeyGuard
from keyguard.metrics import PrometheusMetrics
from keyguard.testing import mint

from ._support import LOOKUPS, bearer, sample, series

STORE_SECONDS = "keyguard_store_seconds_count"
ERRORS = "keyguard_call_errors_total"


def tiers(metrics: PrometheusMetrics) -> dict[str, float]:
    return {t: sample(metrics, LOOKUPS, tier=t) for t in ("local", "redis", "store")}


async def test_every_tier_counts_from_zero(metrics: PrometheusMetrics) -> None:
    """Each tier's series exists before its first lookup, so `rate()` sees it start."""
    assert set(series(metrics, LOOKUPS)) == {(("tier", t),) for t in ("local", "redis", "store")}
    assert tiers(metrics) == {"local": 0, "redis": 0, "store": 0}


async def test_a_miss_is_answered_by_the_store_then_by_the_local_cache(
    guard: KeyGuard, metrics: PrometheusMetrics, client: httpx.AsyncClient
) -> None:
    key = await mint(guard)
    unknown = KeyFormat().generate(Access.SECRET, "test")
    for token in (key, key, key, unknown, unknown, "garbage"):
        await client.get("/ping", headers=bearer(token))
    # Garbage is refused on its format: no tier is asked.
    assert tiers(metrics) == {"local": 3, "redis": 0, "store": 2}
    assert guard.verifier.store_lookups == 2


async def test_each_store_lookup_is_timed(
    guard: KeyGuard, metrics: PrometheusMetrics, client: httpx.AsyncClient
) -> None:
    keys = [await mint(guard) for _ in range(3)]
    for key in keys * 2:
        await client.get("/ping", headers=bearer(key))
    assert sample(metrics, STORE_SECONDS, operation="find_by_digest") == 3
    assert sample(metrics, "keyguard_store_seconds_sum", operation="find_by_digest") > 0
    # The guard's other store calls are timed under their own names.
    assert sample(metrics, STORE_SECONDS, operation="read_changes") >= 1
    assert sample(metrics, ERRORS, system="store", operation="find_by_digest") == 0


def test_a_call_that_raises_is_timed_and_counted_as_an_error(metrics: PrometheusMetrics) -> None:
    with pytest.raises(OSError, match="down"), metrics.call("store", "find_by_digest"):
        raise OSError("down")
    with metrics.call("store", "find_by_digest"):
        pass
    assert sample(metrics, ERRORS, system="store", operation="find_by_digest") == 1
    assert sample(metrics, STORE_SECONDS, operation="find_by_digest") == 2


def test_a_cancelled_call_is_neither_timed_nor_an_error(metrics: PrometheusMetrics) -> None:
    with pytest.raises(asyncio.CancelledError), metrics.call("redis", "cache.get"):
        raise asyncio.CancelledError
    assert sample(metrics, ERRORS, system="redis", operation="cache.get") == 0
    assert sample(metrics, "keyguard_redis_seconds_count", operation="cache.get") == 0


def test_a_system_without_a_histogram_still_counts_its_errors(metrics: PrometheusMetrics) -> None:
    with pytest.raises(OSError, match="x"), metrics.call("ldap", "bind"):
        raise OSError("x")
    assert sample(metrics, ERRORS, system="ldap", operation="bind") == 1
    names = {f.name for f in metrics.registry.collect()}
    assert not any("ldap" in name for name in names)


async def test_one_request_is_one_lookup_even_when_the_fast_path_falls_through(
    guard: KeyGuard, metrics: PrometheusMetrics, client: httpx.AsyncClient
) -> None:
    publishable = await mint(guard, access="publishable")
    assert (await client.get("/ping", headers=bearer(publishable))).status_code == 200
    assert (await client.post("/ping", headers=bearer(publishable))).status_code == 403
    assert tiers(metrics) == {"local": 1, "redis": 0, "store": 1}
