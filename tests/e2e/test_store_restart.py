"""PostgreSQL crashes and comes back (a cluster of the test's own, shut down immediately): the
LISTEN connection dies with it, the change log is read again from the last change seen, and a
revoke made after the restart is refused everywhere within the bound. Nothing is missed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Iterator

import pytest

from keyguard import Settings

from ..conftest import migrate_database
from ._postgres_server import PostgresServer
from ._support import PEPPER, wait_for
from .conftest import MakeGuard


@pytest.fixture
def pg_server() -> Iterator[PostgresServer]:
    server = PostgresServer()
    try:
        server.start()
        yield server
    finally:
        server.remove()


async def test_a_crashed_and_restarted_store_misses_no_change(
    pg_server: PostgresServer, make_guard: MakeGuard, account: str
) -> None:
    await migrate_database(pg_server.url)
    settings = Settings(database_url=pg_server.url, pepper=PEPPER, store_timeout=1.0)
    server = await make_guard(settings)
    revoker = await make_guard(settings)
    before = await revoker.guard.manager.create(
        account=account, name="b", environment="test", access="secret"
    )
    assert await server.status(before.value) == 200

    pg_server.kill()
    await wait_for(
        lambda: _is(server, before.value, 503), within=10, what="503 once the store is gone"
    )
    pg_server.start()
    await wait_for(
        lambda: _is(server, before.value, 200), within=15, what="the store to answer again"
    )

    delays = []
    for n in range(5):
        created = await revoker.guard.manager.create(
            account=account, name=f"k{n}", environment="test", access="secret"
        )
        assert await server.status(created.value) == 200
        await revoker.guard.manager.revoke(created.record.id)
        since = time.monotonic()
        while (status := await server.status(created.value)) != 401:
            assert status == 200
            assert time.monotonic() - since < settings.max_staleness, "past the bound"
            await asyncio.sleep(0.005)
        delays.append(time.monotonic() - since)
    assert await server.status(before.value) == 200


async def _is(target: object, value: str, status: int) -> bool:
    return await target.status(value) == status  # type: ignore[attr-defined, no-any-return]
