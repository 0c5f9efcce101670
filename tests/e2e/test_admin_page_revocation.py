"""A revoke from the admin page is refused at once in the page's process and within a second
by every other: two uvicorn servers (one with Redis, one without) on the same PostgreSQL, the
page in this process, driven over HTTP as a browser drives it."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator, Iterator

import httpx
import pytest
from starlette.requests import Request

from keyguard import KeyGuard, Settings
from keyguard.demo import create_app
from keyguard.services import Verdict
from keyguard.web.admin import AdminIdentity, AdminPage

from ..admin._page import PageClient
from ._asgi import PING
from ._servers import UvicornServer
from ._support import PEPPER, auth, summary

TRIALS = 20
BOUND = 1.0  # seconds: the product's promise
GIVE_UP = 3.0


@pytest.fixture(scope="module")
def two_servers(
    pg_database_url: str,
    redis_url: str,
    redis_prefix: str,
    tmp_path_factory: pytest.TempPathFactory,
) -> Iterator[dict[str, UvicornServer]]:
    logs = tmp_path_factory.mktemp("uvicorn")
    common = {
        "KEYGUARD_DATABASE_URL": pg_database_url,
        "KEYGUARD_PEPPER": PEPPER,
        "KEYGUARD_REDIS_PREFIX": redis_prefix,
    }
    envs = {"with Redis": {**common, "KEYGUARD_REDIS_URL": redis_url}, "without": common}
    started: dict[str, UvicornServer] = {}
    try:
        for name, env in envs.items():
            started[name] = UvicornServer(name.replace(" ", "-"), env, logs)
        for server in started.values():
            server.wait_ready()
        yield started
    finally:
        for server in started.values():
            server.stop()


@pytest.fixture
async def page_guard(settings: Settings) -> AsyncIterator[KeyGuard]:
    async with KeyGuard(settings) as guard:
        yield guard


async def _refused_after(http: httpx.AsyncClient, url: str, value: str, since: float) -> float:
    while True:
        response = await http.get(url + PING, headers=auth(value))
        elapsed = time.perf_counter() - since
        if response.status_code == 401 or elapsed > GIVE_UP:
            return elapsed
        assert response.status_code == 200, response.text
        await asyncio.sleep(0.001)


async def test_a_revoke_from_the_page_reaches_every_process_within_a_second(
    two_servers: dict[str, UvicornServer], page_guard: KeyGuard, account: str
) -> None:
    person = AdminIdentity(account=account, name="operator")

    async def identify(request: Request) -> AdminIdentity:
        return person

    app = create_app(page_guard, admin_page=AdminPage(page_guard, identify=identify))
    delays: dict[str, list[float]] = {name: [] for name in two_servers}
    transport = httpx.ASGITransport(app=app)
    async with (
        httpx.AsyncClient(transport=transport, base_url="http://page") as browser,
        httpx.AsyncClient(trust_env=False, timeout=5.0) as http,
    ):
        page = PageClient(browser)
        for trial in range(TRIALS):
            key_id, value = await page.create(f"trial {trial}")
            for server in two_servers.values():
                assert (await http.get(server.url + PING, headers=auth(value))).status_code == 200
            answer = await page.act(key_id, "revoke")
            since = time.perf_counter()
            assert answer.status_code == 303
            assert await page_guard.verifier.verify(value) is Verdict.INVALID  # here: at once
            waits = [_refused_after(http, s.url, value, since) for s in two_servers.values()]
            for name, delay in zip(two_servers, await asyncio.gather(*waits), strict=True):
                delays[name].append(delay)
    for name, found in delays.items():
        print(f"\nadmin page revoke -> first 401 on the server {name}: {summary(found)}")
        assert max(found) < BOUND, sorted(found)[-3:]
