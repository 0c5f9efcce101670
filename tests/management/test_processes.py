"""A revoke over HTTP reaches every process: two guards on one Postgres and one Redis."""

from __future__ import annotations

import asyncio
import secrets
import time
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.applications import Starlette

from keyguard import KeyGuard, Settings
from keyguard.web import APIKeyMiddleware, management_routes

from ..conftest import TEST_PEPPER
from .conftest import KEYS, Caller, envelope


@pytest.fixture
def settings(pg_database_url: str, redis_url: str, redis_prefix: str) -> Settings:
    return Settings(
        database_url=pg_database_url,
        redis_url=redis_url,
        redis_prefix=redis_prefix,
        pepper=TEST_PEPPER,
        max_staleness=30.0,  # long: only word of the change can make the other process see it
        local_cache_ttl=30.0,
    )


@pytest.fixture
async def two_processes(settings: Settings) -> AsyncIterator[list[httpx.AsyncClient]]:
    guards = [KeyGuard(settings), KeyGuard(settings)]
    clients = []
    for guard in guards:
        await guard.start()
        app = APIKeyMiddleware(Starlette(routes=management_routes(guard)), guard=guard)
        transport = httpx.ASGITransport(app=app)
        clients.append(httpx.AsyncClient(transport=transport, base_url="http://test"))
    yield clients
    for client in clients:
        await client.aclose()
    for guard in guards:
        await guard.stop()


async def test_a_revoke_here_is_a_401_there_within_a_second(
    settings: Settings, two_processes: list[httpx.AsyncClient]
) -> None:
    here, there = two_processes
    async with KeyGuard(settings) as guard:
        boot = await guard.manager.create(
            account=f"acct-{secrets.token_hex(6)}",
            name="admin",
            environment="live",
            access="secret",
        )
    admin = Caller(here, boot.value, boot.record)
    key = envelope(
        await admin.post(KEYS, json={"name": "w", "environment": "live", "access": "secret"}), 201
    )
    victim = Caller(there, key["value"], boot.record)
    envelope(await victim.get(KEYS), 200)  # cached in the other process now
    envelope(await admin.delete(f"{KEYS}/{key['id']}"), 200)
    envelope(await Caller(here, key["value"], boot.record).get(KEYS), 401, "INVALID_API_KEY")
    deadline = time.monotonic() + 1.0
    while (await victim.get(KEYS)).status_code != 401:
        assert time.monotonic() < deadline, "the other process still accepts the revoked key"
        await asyncio.sleep(0.02)
