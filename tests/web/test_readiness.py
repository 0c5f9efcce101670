"""What a guard says about itself: one start-up line naming what it uses (never the pepper),
a warning for keys stored under a pepper it lacks, and `health()` with a readiness route that
answers 200 or 503 in the envelope."""

from __future__ import annotations

import logging
from collections.abc import AsyncIterator
from pathlib import Path
from urllib.parse import urlsplit

import httpx
import pytest
from starlette.applications import Starlette
from starlette.routing import Route

from keyguard import KeyGuard, Settings
from keyguard.web import APIKeyMiddleware, readiness_endpoint

from ..e2e._faults import FaultyLink

PEPPER = "readiness-pepper-not-a-secret"


def _client(guard: KeyGuard) -> httpx.AsyncClient:
    app = Starlette(routes=[Route("/ready", readiness_endpoint(guard))])
    guarded = APIKeyMiddleware(app, guard=guard, public_paths=["/ready"])
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=guarded), base_url="http://t")


async def test_start_up_says_what_it_uses_in_one_line(
    tmp_path: Path, caplog: pytest.LogCaptureFixture, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    where = tmp_path.resolve()  # noqa: ASYNC240 - a test's folder, once
    async with KeyGuard(Settings(database_url="sqlite:///keys.db", pepper=PEPPER)) as guard:
        await guard.manager.create(account="a", name="k", environment="test", access="secret")
    caplog.clear()
    with caplog.at_level(logging.INFO, logger="keyguard"):
        async with KeyGuard(Settings(database_url="sqlite:///keys.db", pepper=PEPPER)) as guard:
            pass
    said = [r.getMessage() for r in caplog.records if "keyguard started" in r.getMessage()]
    assert said == [
        f"keyguard started: store sqlite:///{where}/keys.db; redis none;"
        f" pepper {guard.hasher.version}; environments test, live; 1 valid keys"
    ]
    assert PEPPER not in caplog.text
    assert not [r for r in caplog.records if r.levelno >= logging.WARNING]


async def test_keys_under_a_pepper_it_lacks_are_counted_and_warned_about(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    url = f"sqlite:///{tmp_path}/keys.db"
    async with KeyGuard(Settings(database_url=url)) as minted_without_pepper:
        await minted_without_pepper.manager.create(
            account="a", name="k", environment="test", access="secret"
        )
    with caplog.at_level(logging.WARNING, logger="keyguard"):
        async with KeyGuard(Settings(database_url=url, pepper=PEPPER)):
            pass
    warnings = [r.getMessage() for r in caplog.records if r.levelno == logging.WARNING]
    assert any("1 valid keys are stored under a pepper this server does not have (blake3)" in w
               for w in warnings), warnings  # fmt: skip
    caplog.clear()
    with caplog.at_level(logging.WARNING, logger="keyguard"):
        async with KeyGuard(Settings(database_url=url, pepper=PEPPER, previous_peppers=(None,))):
            pass
    assert not [r for r in caplog.records if "does not have" in r.getMessage()]


@pytest.fixture
async def sqlite_guard(tmp_path: Path) -> AsyncIterator[KeyGuard]:
    guard = KeyGuard(Settings(database_url=f"sqlite:///{tmp_path}/k.db", pepper=PEPPER))
    yield guard
    await guard.stop()


async def test_the_probe_starts_a_guard_no_lifespan_started(sqlite_guard: KeyGuard) -> None:
    before = await sqlite_guard.health()
    assert not before.ready
    async with _client(sqlite_guard) as client:  # no lifespan: only a request can start it
        answer = await client.get("/ready")
    assert answer.status_code == 200
    assert answer.json()["data"] == {
        "ready": True, "started": True, "store": "ok", "redis": "none", "changes": "live",
    }  # fmt: skip
    assert answer.headers["cache-control"] == "no-store"


async def test_redis_down_is_reported_but_still_ready(tmp_path: Path, unused_tcp_port: int) -> None:
    settings = Settings(
        database_url=f"sqlite:///{tmp_path}/k.db",
        redis_url=f"redis://127.0.0.1:{unused_tcp_port}/0",
        pepper=PEPPER,
    )
    async with KeyGuard(settings) as guard:
        health = await guard.health()
    assert (health.ready, health.redis) == (True, "unavailable")


@pytest.mark.postgres
async def test_a_store_cut_off_is_not_ready_and_the_route_says_503(
    pg_database_url: str,
) -> None:
    parts = urlsplit(pg_database_url)
    link = FaultyLink(parts.hostname or "127.0.0.1", parts.port or 5432)
    through = parts._replace(netloc=f"{parts.username}@{link.url_host}").geturl()
    guard = KeyGuard(Settings(database_url=through, pepper=PEPPER, store_timeout=0.5))
    try:
        await guard.start()
        async with _client(guard) as client:
            assert (await client.get("/ready")).status_code == 200
            link.cut()
            answer = await client.get("/ready")
        assert answer.status_code == 503
        body = answer.json()
        assert body["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert "store unavailable" in body["error"]["message"]
        assert answer.headers["retry-after"] == "5"
        link.restore()
        assert (await guard.health()).store == "ok"
    finally:
        link.restore()
        await guard.stop()
        link.close()
