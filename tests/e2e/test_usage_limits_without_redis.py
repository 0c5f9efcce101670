"""Without Redis, each process counts a key's requests on its own: two uvicorn processes on one
SQLite file admit the key's limit each, so N processes allow N times the limit. What the
documentation says about running several workers without Redis; this test keeps it true."""

from __future__ import annotations

import asyncio
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from keyguard import KeyGuard, Settings

from ._asgi import PING
from ._servers import UvicornServer
from ._support import PEPPER, auth
from ._usage import limited_item, two_servers

Servers = tuple[UvicornServer, UvicornServer]


@pytest.fixture
def database_file(tmp_path: Path) -> str:
    return f"sqlite:///{tmp_path}/keys.db"


@pytest.fixture
def servers(database_file: str, tmp_path: Path) -> Iterator[Servers]:
    env = {"KEYGUARD_DATABASE_URL": database_file, "KEYGUARD_PEPPER": PEPPER}
    yield from two_servers(env, tmp_path, None, None)


async def _in_turn(client: httpx.AsyncClient, server: UvicornServer, value: str) -> list[int]:
    statuses = []
    for _ in range(8):
        response = await client.get(server.url + PING, headers=auth(value))
        assert limited_item(response)[0] == "5/m"
        statuses.append(response.status_code)
    return statuses


async def test_each_process_counts_its_own_without_redis(
    database_file: str, servers: Servers, account: str
) -> None:
    settings = Settings(database_url=database_file, pepper=PEPPER)
    async with KeyGuard(settings) as guard:
        key = await guard.manager.create(
            account=account, name="apart", environment="live", access="secret", rate_limits=["5/m"]
        )
    async with httpx.AsyncClient(trust_env=False, timeout=10.0) as client:
        on_a, on_b = await asyncio.gather(
            *(_in_turn(client, server, key.value) for server in servers)
        )
    # One unit of 5/m comes back every 12 s: none in the few ms these take.
    assert on_a == on_b == [200] * 5 + [429] * 3
