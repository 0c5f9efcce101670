"""A guard on a SQLite file of its own reporting to a `PrometheusMetrics`, and a client for a
small app behind its middleware: every metric is read back from the metrics' own registry."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from keyguard import KeyGuard, Settings
from keyguard.metrics import PrometheusMetrics

from ._support import app_for, client_for


@pytest.fixture
def metrics() -> PrometheusMetrics:
    return PrometheusMetrics()


@pytest.fixture
async def guard(tmp_path: Path, metrics: PrometheusMetrics) -> AsyncIterator[KeyGuard]:
    """Overrides the suite's guard: the same SQLite guard, reporting to `metrics`."""
    guard = KeyGuard(
        Settings(database_url=f"sqlite:///{tmp_path}/k.db", pepper="p"), observer=metrics
    )
    await guard.start()
    yield guard
    await guard.stop()


@pytest.fixture
async def client(guard: KeyGuard) -> AsyncIterator[httpx.AsyncClient]:
    async with client_for(app_for(guard)) as c:
        yield c
