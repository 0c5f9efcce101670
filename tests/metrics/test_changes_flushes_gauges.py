"""`keyguard_change_lag_seconds`, the background writers' histograms, the gauges read at
scrape time, and where the metrics live (a registry of their own by default)."""

from __future__ import annotations

import gc

import httpx
import pytest
from prometheus_client import CollectorRegistry

from keyguard import KeyGuard, Settings
from keyguard.metrics import PrometheusMetrics
from keyguard.testing import memory_guard, mint

from ._support import bearer, sample

LAG = "keyguard_change_lag_seconds_count"


async def test_a_change_made_here_is_applied_on_the_local_path(
    guard: KeyGuard, metrics: PrometheusMetrics, client: httpx.AsyncClient
) -> None:
    created = await guard.manager.create(
        account="acme", name="doomed", environment="test", access="secret"
    )
    await client.get("/ping", headers=bearer(created.value))
    await guard.manager.revoke(created.record.id, actor="test")
    assert sample(metrics, LAG, path="local") == 1
    await guard.feed.poll()  # the log brings it again: applied (and measured) once
    assert sample(metrics, LAG, path="log") == 0
    assert sample(metrics, LAG, path="local") == 1


def test_a_change_of_unknown_age_is_not_measured(metrics: PrometheusMetrics) -> None:
    metrics.change_applied(None, "log")
    metrics.change_applied(0.2, "log")
    assert sample(metrics, LAG, path="log") == 1
    assert sample(metrics, "keyguard_change_lag_seconds_sum", path="log") == pytest.approx(0.2)


async def test_each_background_write_is_measured(
    guard: KeyGuard, metrics: PrometheusMetrics, client: httpx.AsyncClient
) -> None:
    keys = [await mint(guard), await mint(guard), await mint(guard, quota={"remaining": 5})]
    for key in keys:
        assert (await client.get("/ping", headers=bearer(key))).status_code == 200
    await guard.last_used.flush()
    await guard.quota_writer.flush()
    assert sample(metrics, "keyguard_flush_size_count", kind="last_used") == 1
    assert sample(metrics, "keyguard_flush_size_sum", kind="last_used") == 3
    assert sample(metrics, "keyguard_flush_lag_seconds_count", kind="last_used") == 1
    assert sample(metrics, "keyguard_flush_size_sum", kind="quota") == 1
    await guard.last_used.flush()  # nothing to write: no write, nothing measured
    assert sample(metrics, "keyguard_flush_size_count", kind="last_used") == 1


async def test_the_gauges_are_read_at_scrape_time(
    guard: KeyGuard, metrics: PrometheusMetrics, client: httpx.AsyncClient
) -> None:
    assert sample(metrics, "keyguard_cached_keys") == 0
    for key in [await mint(guard), await mint(guard)]:
        await client.get("/ping", headers=bearer(key))
    assert sample(metrics, "keyguard_cached_keys") == len(guard.verifier.local) == 2
    assert sample(metrics, "keyguard_pending_last_used") == 2
    await guard.last_used.flush()
    assert sample(metrics, "keyguard_pending_last_used") == 0
    assert sample(metrics, "keyguard_change_feed_live") == 1
    for breaker in ("shared_cache", "usage_limits"):
        assert metrics.registry.get_sample_value("keyguard_breaker_open", {"breaker": breaker}) == 0


async def test_several_guards_add_up_and_a_breaker_is_open_if_any_is(
    guard: KeyGuard, metrics: PrometheusMetrics, client: httpx.AsyncClient
) -> None:
    await client.get("/ping", headers=bearer(await mint(guard)))
    # A second guard on the same metrics, never started: its feed has never been read.
    other = KeyGuard(Settings(database_url="sqlite:///:memory:"), observer=metrics)
    other.verifier.local.put(b"d" * 32, None, 1e12)
    other.usage.breaker.reset_after = 3600.0  # open for the rest of the test once opened
    for _ in range(other.usage.breaker.failure_threshold):
        other.usage.breaker.failure()
    assert sample(metrics, "keyguard_cached_keys") == 2
    assert sample(metrics, "keyguard_breaker_open", breaker="usage_limits") == 1
    assert sample(metrics, "keyguard_breaker_open", breaker="shared_cache") == 0
    assert guard.feed.live and not other.feed.live
    assert sample(metrics, "keyguard_change_feed_live") == 0


def test_a_guard_that_is_gone_is_no_longer_read(metrics: PrometheusMetrics) -> None:
    first = memory_guard()
    metrics.watch(first.gauges)
    second = KeyGuard(Settings(database_url="sqlite:///:memory:"), observer=metrics)
    second.verifier.local.put(b"d" * 32, None, 1e12)  # one entry, in the second guard only
    assert sample(metrics, "keyguard_cached_keys") == 1
    del second
    gc.collect()
    assert sample(metrics, "keyguard_cached_keys") == 0
    assert first.gauges().cached_keys == 0


def test_each_instance_has_its_own_registry_unless_told() -> None:
    one, two = PrometheusMetrics(), PrometheusMetrics()
    one.answered("store")
    assert sample(one, "keyguard_lookups_total", tier="store") == 1
    assert sample(two, "keyguard_lookups_total", tier="store") == 0
    shared = CollectorRegistry()
    joined = PrometheusMetrics(registry=shared)
    assert joined.registry is shared
    with pytest.raises(ValueError, match="Duplicated"):  # one per registry: names are final
        PrometheusMetrics(registry=shared)
    apart = PrometheusMetrics(registry=shared, namespace="payments_keyguard")
    apart.answered("local")
    assert shared.get_sample_value("payments_keyguard_lookups_total", {"tier": "local"}) == 1
    assert shared.get_sample_value("payments_keyguard_cached_keys") is None  # nothing watched
