"""The management API through httpx and the middleware, against SQLite and the real Postgres.

Every test runs once per store. The Postgres database is shared by the whole run, so each test
works in an account of its own (`account`).
"""

from __future__ import annotations

import dataclasses
import secrets
from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette

from keyguard import AuditQuery, KeyGuard, KeyQuery, KeyRecord, Settings
from keyguard.core import audit_view
from keyguard.web import APIKeyMiddleware, management_routes

from ..conftest import TEST_PEPPER

BASE = "/v1/account"
KEYS = f"{BASE}/api-keys"
AUDIT = f"{BASE}/audit-log"


@pytest.fixture
async def guard(database_url: str) -> AsyncIterator[KeyGuard]:
    guard = KeyGuard(Settings(database_url=database_url, pepper=TEST_PEPPER))
    await guard.start()  # ASGITransport sends no lifespan
    yield guard
    await guard.stop()


@pytest.fixture
def account() -> str:
    return f"acct-{secrets.token_hex(6)}"


@pytest.fixture
def app(guard: KeyGuard) -> APIKeyMiddleware:
    return APIKeyMiddleware(Starlette(routes=management_routes(guard)), guard=guard)


@pytest.fixture
async def client(app: APIKeyMiddleware) -> AsyncIterator[httpx.AsyncClient]:
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


class Caller:
    """One key calling the API: `await alice.post(KEYS, json=...)`."""

    def __init__(self, client: httpx.AsyncClient, value: str, record: KeyRecord) -> None:
        self.client = client
        self.value = value
        self.record = record

    @property
    def id(self) -> str:
        return self.record.id

    async def request(self, method: str, url: str, **kw: Any) -> httpx.Response:
        headers = {"authorization": f"Bearer {self.value}", **kw.pop("headers", {})}
        return await self.client.request(method, url, headers=headers, **kw)

    async def get(self, url: str, **kw: Any) -> httpx.Response:
        return await self.request("GET", url, **kw)

    async def post(self, url: str, **kw: Any) -> httpx.Response:
        return await self.request("POST", url, **kw)

    async def patch(self, url: str, **kw: Any) -> httpx.Response:
        return await self.request("PATCH", url, **kw)

    async def delete(self, url: str, **kw: Any) -> httpx.Response:
        return await self.request("DELETE", url, **kw)


async def make_caller(
    guard: KeyGuard,
    client: httpx.AsyncClient,
    account: str,
    *,
    environment: str = "live",
    access: str = "secret",
    owner: str | None = None,
    permissions: list[str] | None = None,
    allowed_networks: list[str] | None = None,
) -> Caller:
    """A key to call with; `permissions` or `allowed_networks` make it a restricted one."""
    created = await guard.manager.create(
        account=account,
        name=f"{environment} {access}",
        environment=environment,
        access=access,
        owner=owner,
        permissions=permissions,
        allowed_networks=allowed_networks,
    )
    return Caller(client, created.value, created.record)


@pytest.fixture
async def admin(guard: KeyGuard, client: httpx.AsyncClient, account: str) -> Caller:
    """A live secret key: manages every key of its account."""
    return await make_caller(guard, client, account)


def envelope(response: httpx.Response, status: int, code: str | None = None) -> Any:
    """The body, after checking the envelope, the status and the request id; `data` or `error`."""
    assert response.status_code == status, response.text
    body = response.json()
    assert set(body) == {"data", "error", "meta"}
    assert body["meta"]["requestId"] == response.headers["x-request-id"]
    assert body["meta"]["timestamp"].endswith("Z")
    assert response.headers["content-type"] == "application/json"
    if code is None:
        assert body["error"] is None
        return body["data"]
    assert body["data"] is None
    assert body["error"]["code"] == code
    return body["error"]


def fields_of(error: Any) -> set[str]:
    return {d["field"] for d in error["details"]}


async def state(guard: KeyGuard, account: str) -> tuple[list[KeyRecord], list[Any]]:
    """Every key and audit event of the account: equal before and after a refused request."""
    keys = await guard.manager.list(KeyQuery(account=account, limit=100))
    events = await guard.manager.audit(AuditQuery(account=account, limit=100))
    # Last-used times are flushed in the background whenever they are due: not a change.
    records = [dataclasses.replace(r, last_used_at=None) for r in keys.items]
    return records, [audit_view(e) for e in events.items]
