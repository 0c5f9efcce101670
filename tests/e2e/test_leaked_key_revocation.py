"""A leaked key is revoked within seconds: GitHub's report, signed with a key GitHub publishes,
reaches one uvicorn server; that server refuses the key at once and another server, which
heard nothing but the store's change log, within the revocation bound. A report GitHub did
not sign changes nothing on either. The servers' whole output never shows the key.

GitHub is played by this process: a P-256 key pair of its own, and its public-key document
served on 127.0.0.1.
"""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator
from dataclasses import dataclass

import httpx
import pytest

from keyguard import KeyGuard, Settings

from .._github_keys import KeyDocumentServer, SigningKey, report
from ._asgi import LEAKS, PING
from ._servers import UvicornServer
from ._support import PEPPER, auth, summary

PROMISE = 1.0  # seconds: the revocation bound every process keeps
GIVE_UP = 3.0
TRIALS = 10


@dataclass
class Fleet:
    github_key: SigningKey
    github: KeyDocumentServer
    told: UvicornServer  # the server GitHub's report reaches
    other: UvicornServer  # learns of the revoke from the store's change log alone
    settings: Settings


@pytest.fixture(scope="module")
def fleet(pg_database_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[Fleet]:
    logs = tmp_path_factory.mktemp("leaks")
    github_key = SigningKey()
    with KeyDocumentServer(github_key) as github:
        env = {
            "KEYGUARD_DATABASE_URL": pg_database_url,
            "KEYGUARD_PEPPER": PEPPER,
            "E2E_GITHUB_KEYS_URL": github.url,
        }
        servers = [UvicornServer(f"leaks-{n}", env, logs) for n in ("told", "other")]
        try:
            for server in servers:
                server.wait_ready()
            settings = Settings(database_url=pg_database_url, pepper=PEPPER)
            yield Fleet(github_key, github, servers[0], servers[1], settings)
        finally:
            for server in servers:
                server.stop()


async def status(client: httpx.AsyncClient, server: UvicornServer, value: str) -> int:
    return (await client.get(server.url + PING, headers=auth(value))).status_code


async def first_refusal(client: httpx.AsyncClient, server: UvicornServer, value: str) -> float:
    """When (by `time.monotonic()`) `server` first answered 401 for `value`."""
    deadline = time.monotonic() + GIVE_UP
    while time.monotonic() < deadline:
        if await status(client, server, value) == 401:
            return time.monotonic()
        await asyncio.sleep(0.01)
    return float("inf")


async def test_an_unsigned_report_changes_nothing_anywhere(fleet: Fleet) -> None:
    value = await mint(fleet)
    body = report(value)
    forged = {**fleet.github_key.headers(body), "github-public-key-signature": ""}
    async with httpx.AsyncClient(trust_env=False, timeout=5.0) as client:
        refused = await client.post(fleet.told.url + LEAKS, content=body, headers=forged)
        assert refused.status_code == 403
        await asyncio.sleep(PROMISE * 1.5)  # had it revoked anything, the bound has passed
        for server in (fleet.told, fleet.other):
            assert await status(client, server, value) == 200


async def test_a_signed_report_revokes_the_key_on_every_server(fleet: Fleet) -> None:
    delays, values = [], []
    async with httpx.AsyncClient(trust_env=False, timeout=5.0) as client:
        for _ in range(TRIALS):
            value = await mint(fleet)
            values.append(value)
            for server in (fleet.told, fleet.other):
                assert await status(client, server, value) == 200
            body = report(value)
            headers = fleet.github_key.headers(body)
            answer = await client.post(fleet.told.url + LEAKS, content=body, headers=headers)
            answered = time.monotonic()
            assert answer.status_code == 200
            assert answer.json()[0]["label"] == "true_positive"
            assert await status(client, fleet.told, value) == 401  # from the moment it answered
            delays.append(await first_refusal(client, fleet.other, value) - answered)
    print(f"\nleak report answered -> the other server's first 401: {summary(delays)}")
    assert max(delays) < PROMISE
    for server in (fleet.told, fleet.other):
        server.log()  # flushed
        output = server.log_path.read_text(errors="replace")
        assert not [value for value in values if value in output]


async def mint(fleet: Fleet) -> str:
    async with KeyGuard(fleet.settings) as guard:
        created = await guard.manager.create(
            account="e2e-leaks", name="pushed", environment="live", access="secret"
        )
    return created.value
