"""Faults while a report is handled: no key is touched on a guess, the answer is 503 so GitHub
sends the report again, and the report sent again is acted on (not refused as a replay)."""

from __future__ import annotations

import secrets
from collections.abc import AsyncIterator, Iterator
from urllib.parse import urlsplit

import pytest

from keyguard import KeyGuard, Settings
from keyguard.core import AuditEventType

from .._github_keys import KeyDocumentServer, SigningKey, report
from ..e2e._faults import FaultyLink
from .conftest import PEPPER, ClientFor
from .test_endpoint import events, mint, send, works

pytestmark = pytest.mark.postgres


@pytest.fixture
def link(pg_database_url: str) -> Iterator[FaultyLink]:
    parts = urlsplit(pg_database_url)
    made = FaultyLink(parts.hostname or "127.0.0.1", parts.port or 5432)
    yield made
    made.close()


@pytest.fixture
async def cut_off_guard(pg_database_url: str, link: FaultyLink) -> AsyncIterator[KeyGuard]:
    """A guard whose PostgreSQL is behind a link the test cuts."""
    parts = urlsplit(pg_database_url)
    through = parts._replace(netloc=f"{parts.username}@{link.url_host}").geturl()
    guard = KeyGuard(Settings(database_url=through, pepper=PEPPER, store_timeout=1.0))
    await guard.start()
    yield guard
    link.restore()
    await guard.stop()


async def test_a_store_outage_is_503_and_the_report_sent_again_is_acted_on(
    client_for: ClientFor, cut_off_guard: KeyGuard, github_key: SigningKey, link: FaultyLink
) -> None:
    guard = cut_off_guard
    key_id, value = await mint(guard, f"leaks-{secrets.token_hex(6)}")
    body = report(value)
    async with client_for(guard) as client:
        link.cut()
        down = await send(client, github_key, body)
        assert down.status_code == 503
        assert down.json()["error"]["code"] == "SERVICE_UNAVAILABLE"
        assert "retry-after" in down.headers
        link.restore()
        assert await works(client, value)  # nothing was done on a guess
        again = await send(client, github_key, body)
        assert again.status_code == 200
        assert again.json()[0]["label"] == "true_positive"
        assert not await works(client, value)
    assert AuditEventType.LEAKED in [e.event for e in await events(guard, key_id)]


async def test_githubs_keys_out_of_reach_is_503_and_no_key_is_touched(
    client_for: ClientFor, guard: KeyGuard, github_key: SigningKey, account: str
) -> None:
    with KeyDocumentServer(github_key) as gone:
        url = gone.url
    key_id, value = await mint(guard, account)
    async with client_for(guard, public_keys_url=url) as client:
        answer = await send(client, github_key, report(value))
        assert answer.status_code == 503
        assert await works(client, value)
    assert [e.event for e in await events(guard, key_id)] == [AuditEventType.CREATED]
