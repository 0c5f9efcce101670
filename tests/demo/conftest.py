"""A started guard on a fresh SQLite file, and a client for the demo storefront in front of it."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from keyguard import KeyGuard
from keyguard.demo import create_app

from ._support import Keys, mint_all


@pytest.fixture
async def client(guard: KeyGuard) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=create_app(guard))
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
async def keys(guard: KeyGuard) -> Keys:
    return await mint_all(guard)
