"""The admin page inside the demo storefront (behind `APIKeyMiddleware`, as a host app mounts
it), on a fresh SQLite store per test. The host app's sign-in is a header the tests set."""

from __future__ import annotations

from collections.abc import AsyncIterator, Callable
from pathlib import Path

import httpx
import pytest
from starlette.applications import Starlette
from starlette.requests import Request

from keyguard import AccountSettings, KeyGuard, Settings
from keyguard.demo import create_app
from keyguard.web.admin import AdminIdentity, AdminPage

from ..conftest import TEST_PEPPER
from ._page import PageClient

PEOPLE = {
    "carol": AdminIdentity(account="acme", name="carol", owner="carol"),
    "alice": AdminIdentity(account="acme", name="alice", owner="alice", own_keys_only=True),
    "bob": AdminIdentity(account="acme", name="bob", owner="bob", manages_live=False),
    "eve": AdminIdentity(account="evil", name="eve", owner="eve"),
}
BASE_URL = "http://testserver"


async def identify(request: Request) -> AdminIdentity | None:
    return PEOPLE.get(request.headers.get("x-test-person", ""))


@pytest.fixture
async def guard(tmp_path: Path) -> AsyncIterator[KeyGuard]:
    settings = Settings(database_url=f"sqlite:///{tmp_path}/keys.db", pepper=TEST_PEPPER)
    guard = KeyGuard(settings)
    await guard.start()
    yield guard
    await guard.stop()


@pytest.fixture
def app(guard: KeyGuard) -> Starlette:
    return create_app(guard, admin_page=AdminPage(guard, identify=identify, login_url="/login"))


@pytest.fixture
async def person(app: Starlette) -> AsyncIterator[Callable[[str], PageClient]]:
    """`person("carol")`: a browser signed in to the host app as carol."""
    clients: list[httpx.AsyncClient] = []

    def browser(name: str) -> PageClient:
        transport = httpx.ASGITransport(app=app)
        http = httpx.AsyncClient(
            transport=transport, base_url=BASE_URL, headers={"x-test-person": name}
        )
        clients.append(http)
        return PageClient(http)

    yield browser
    for http in clients:
        await http.aclose()


@pytest.fixture
def carol(person: Callable[[str], PageClient]) -> PageClient:
    return person("carol")


@pytest.fixture
async def api(app: Starlette) -> AsyncIterator[httpx.AsyncClient]:
    """The storefront's API, where keys are used."""
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url=BASE_URL) as c:
        yield c


async def one_secret_per_owner(guard: KeyGuard, account: str) -> None:
    await guard.manager.set_account_settings(
        AccountSettings(account, one_secret_key_per_owner=True)
    )
