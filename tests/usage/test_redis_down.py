"""Usage limits while Redis cannot be reached (a port nothing listens on): fail open counts in
this process, fail closed answers 503 to limited keys alone; the outage is logged once; a key's
authentication never depends on its count."""

from __future__ import annotations

import logging
import socket
from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from keyguard import KeyGuard, Settings
from keyguard.web import APIKeyMiddleware

from .conftest import bearer, mint, ok_app


def dead_redis_url() -> str:
    with socket.socket() as probe:
        probe.bind(("127.0.0.1", 0))
        return f"redis://127.0.0.1:{probe.getsockname()[1]}/0"  # closed again: nobody answers


@pytest.fixture(params=["open", "closed"])
async def guard(request: pytest.FixtureRequest, tmp_path: Path) -> AsyncIterator[KeyGuard]:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/k.db",
        pepper="usage pepper",
        redis_url=dead_redis_url(),
        rate_limit_failure=request.param,
    )
    guard = KeyGuard(settings)
    await guard.start()
    yield guard
    await guard.stop()


async def test_limited_keys_follow_the_setting_and_nothing_else_changes(
    guard: KeyGuard, caplog: pytest.LogCaptureFixture
) -> None:
    limited, _ = await mint(guard, rate_limits=["2/m"])
    free, _ = await mint(guard)
    middleware = APIKeyMiddleware(ok_app, guard=guard)
    transport = httpx.ASGITransport(app=middleware)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        with caplog.at_level(logging.INFO, logger="keyguard.services._usage_limiting"):
            answers = [await client.get("/", headers=bearer(limited)) for _ in range(3)]
        codes = [answer.status_code for answer in answers]
        message = answers[-1].json()["error"]["message"]
        assert (await client.get("/", headers=bearer(free))).status_code == 200
        wrong = limited[:-6] + ("A" if limited[-6] != "A" else "B") + limited[-5:]
        assert (await client.get("/", headers=bearer(wrong))).status_code == 401
    if guard.usage.fail_open:
        assert codes == [200, 200, 429]  # counted here, against the key's own limit
        assert guard.usage.counted_here == 3
    else:
        assert codes == [503, 503, 503]
        assert "valid" in message  # the key was checked: only its count could not be kept
        assert guard.usage.refused_unavailable == 3
    said = [r.getMessage() for r in caplog.records if "cannot count usage" in r.getMessage()]
    assert len(said) == 1 and ("fail open" if guard.usage.fail_open else "fail closed") in said[0]
    assert guard.usage.outages == 1
