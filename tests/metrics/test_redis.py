"""With the real Redis: lookups answered by the shared tier, `keyguard_redis_seconds` around
each Redis call, and a Redis that is down counted in `keyguard_call_errors_total`."""

from __future__ import annotations

import asyncio
import secrets
from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from keyguard import KeyGuard, Settings
from keyguard.metrics import PrometheusMetrics
from keyguard.testing import mint

from ._support import LOOKUPS, app_for, bearer, client_for, sample

pytestmark = pytest.mark.redis

REDIS_SECONDS = "keyguard_redis_seconds_count"
ERRORS = "keyguard_call_errors_total"


@pytest.fixture
def settings(tmp_path: Path, redis_url: str, redis_prefix: str) -> Settings:
    """One SQLite file and one Redis prefix for this test's guards."""
    return Settings(
        database_url=f"sqlite:///{tmp_path}/shared.db",
        redis_url=redis_url,
        redis_prefix=f"{redis_prefix}{secrets.token_hex(4)}:",
        pepper="metrics-pepper",
    )


@pytest.fixture
async def filler(settings: Settings) -> AsyncIterator[KeyGuard]:
    """A guard that mints keys and fills Redis with them: it reports to nobody."""
    async with KeyGuard(settings) as guard:
        yield guard


async def test_a_key_another_process_looked_up_is_answered_by_redis(
    settings: Settings, filler: KeyGuard
) -> None:
    keys = [await mint(filler) for _ in range(3)]
    for key in keys:
        await filler.verifier.verify(key)  # store, then Redis
    metrics = PrometheusMetrics()
    guard = KeyGuard(settings, observer=metrics)
    async with guard, client_for(app_for(guard)) as client:
        for key in keys * 2:
            assert (await client.get("/ping", headers=bearer(key))).status_code == 200
    assert sample(metrics, LOOKUPS, tier="redis") == 3
    assert sample(metrics, LOOKUPS, tier="local") == 3
    assert sample(metrics, LOOKUPS, tier="store") == 0
    assert sample(metrics, REDIS_SECONDS, operation="cache.get") == 3
    assert sample(metrics, "keyguard_redis_seconds_sum", operation="cache.get") > 0
    assert sample(metrics, "keyguard_store_seconds_count", operation="find_by_digest") == 0
    assert sample(metrics, ERRORS, system="redis", operation="cache.get") == 0


async def test_a_store_lookup_is_written_to_redis_and_timed(settings: Settings) -> None:
    metrics = PrometheusMetrics()
    async with KeyGuard(settings, observer=metrics) as guard:
        key = await mint(guard)
        async with client_for(app_for(guard)) as client:
            assert (await client.get("/ping", headers=bearer(key))).status_code == 200
    assert sample(metrics, LOOKUPS, tier="store") == 1
    assert sample(metrics, REDIS_SECONDS, operation="cache.get") == 1
    assert sample(metrics, REDIS_SECONDS, operation="cache.put") == 1
    assert sample(metrics, "keyguard_store_seconds_count", operation="find_by_digest") == 1


async def test_a_redis_that_is_down_counts_errors_and_the_store_answers(
    settings: Settings, unused_tcp_port: int
) -> None:
    down = Settings(**{**vars(settings), "redis_url": f"redis://127.0.0.1:{unused_tcp_port}/0"})
    metrics = PrometheusMetrics()
    async with KeyGuard(down, observer=metrics) as guard:
        key = await mint(guard)
        async with client_for(app_for(guard)) as client:
            assert (await client.get("/ping", headers=bearer(key))).status_code == 200
    assert sample(metrics, LOOKUPS, tier="store") == 1
    assert sample(metrics, ERRORS, system="redis", operation="cache.get") == 1
    assert sample(metrics, REDIS_SECONDS, operation="cache.get") == 1  # timed all the same


async def test_notices_live_follows_the_subscription_and_is_absent_without_redis(
    settings: Settings, tmp_path: Path
) -> None:
    metrics = PrometheusMetrics()
    guard = KeyGuard(settings, observer=metrics)
    assert sample(metrics, "keyguard_notices_live") == 0  # not started: not subscribed
    async with guard:
        for _ in range(100):  # bounded: the listener subscribes moments after the start
            if guard.gauges().notices_live:
                break
            await asyncio.sleep(0.05)
        assert sample(metrics, "keyguard_notices_live") == 1
    assert sample(metrics, "keyguard_notices_live") == 0  # stopped: the listener is gone
    alone = PrometheusMetrics()
    lone = KeyGuard(Settings(database_url=f"sqlite:///{tmp_path}/alone.db"), observer=alone)
    assert lone.gauges().notices_live is None
    assert alone.registry.get_sample_value("keyguard_cached_keys") == 0  # it is read...
    assert alone.registry.get_sample_value("keyguard_notices_live") is None  # ...no such series
