"""A started guard on a fresh SQLite file, and a client for the demo storefront in front of it."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import httpx
import pytest

from keyguard import KeyGuard, Settings
from keyguard.demo import create_app

from ._support import Keys, mint_all


@pytest.fixture
async def guard(tmp_path: Path) -> AsyncIterator[KeyGuard]:
    guard = KeyGuard(Settings(database_url=f"sqlite:///{tmp_path}/k.db", pepper="p"))
    await guard.start()
    yield guard
    await guard.stop()


@pytest.fixture
async def client(guard: KeyGuard) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(guard))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
async def keys(guard: KeyGuard) -> Keys:
    return await mint_all(guard)
