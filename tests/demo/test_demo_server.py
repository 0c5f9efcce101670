"""`make_server`/`serve`: uvicorn on a real socket, with the guard started and stopped by the
server's lifespan."""

from __future__ import annotations

import asyncio

import httpx

from keyguard import KeyGuard
from keyguard.demo import ensure_demo_keys, make_server

from ._support import bearer, data_of


async def test_the_server_answers_and_stops_the_guard_on_shutdown(guard: KeyGuard) -> None:
    sk, pk = await ensure_demo_keys(guard)
    server = make_server(guard, port=0, log_level="warning")
    task = asyncio.create_task(server.serve())
    try:
        async with asyncio.timeout(10):
            while not server.started:  # noqa: ASYNC110 - uvicorn offers a flag, no event
                await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}") as client:
            assert data_of(await client.get("/health")) == {"status": "ok"}
            assert data_of(await client.get("/v1/me", headers=bearer(sk)))["id"] == sk.record.id
            products = await client.get("/v1/storefront/products", headers=bearer(pk))
            assert data_of(products)[0]["environment"] == "test"
            assert (await client.get("/v1/me")).status_code == 401
        assert guard.started
    finally:
        server.should_exit = True
        await asyncio.wait_for(task, 10)
    assert not guard.started  # the lifespan stopped it, flushing last-used times
    await guard.start()
    me = await guard.manager.get(sk.record.id)
    assert me.last_used_at is not None
