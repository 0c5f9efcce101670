"""The list: search, filters, sort and cursor pages, on SQLite and the real PostgreSQL."""

from __future__ import annotations

import re
import secrets
from collections.abc import AsyncIterator

import httpx
import pytest
from starlette.requests import Request

from keyguard import KeyGuard, Settings
from keyguard.demo import create_app
from keyguard.web.admin import AdminIdentity, AdminPage

from ..conftest import TEST_PEPPER
from ._page import PageClient, key_ids


@pytest.fixture
async def lister(database_url: str) -> AsyncIterator[PageClient]:
    """A browser on a page whose account holds 25 keys (named key-00...)."""
    guard = KeyGuard(Settings(database_url=database_url, pepper=TEST_PEPPER))
    await guard.start()
    account = f"acme-{secrets.token_hex(4)}"  # the Postgres database is shared by the run
    for i in range(25):
        access, environment = ("publishable", "live") if i % 5 == 0 else ("secret", "test")
        created = await guard.manager.create(
            account=account, name=f"key-{i:02d}", environment=environment, access=access
        )
        if i % 4 == 0:
            await guard.manager.revoke(created.record.id)
    person = AdminIdentity(account=account, name="carol")

    async def identify(request: Request) -> AdminIdentity:
        return person

    app = create_app(guard, admin_page=AdminPage(guard, identify=identify, page_size=10))
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://t") as http:
        yield PageClient(http)
    await guard.stop()


def _labels(page: str) -> list[str]:
    return re.findall(r'/keys/key_\w+">(key-\d\d)<', page)


async def _all_pages(client: PageClient, **params: str) -> list[str]:
    labels: list[str] = []
    page = await client.get("", **params)
    for _ in range(10):
        assert page.status_code == 200, page.text
        labels += _labels(page.text)
        found = re.search(r'href="(/admin\?[^"]*cursor=[^"]*)" rel="next"', page.text)
        if found is None:
            return labels
        page = await client.http.get(found.group(1).replace("&amp;", "&"))
        assert "First page" in page.text
    raise AssertionError("more pages than keys")


async def test_paging_shows_every_key_once_in_order(lister: PageClient) -> None:
    newest_first = await _all_pages(lister)
    assert newest_first == [f"key-{i:02d}" for i in reversed(range(25))]
    by_label = await _all_pages(lister, sort="name")
    assert by_label == sorted(by_label) and len(by_label) == 25
    assert await _all_pages(lister, sort="-name") == list(reversed(by_label))
    assert len(await _all_pages(lister, sort="-lastUsedAt")) == 25


async def test_filters_and_search_keep_across_pages(lister: PageClient) -> None:
    revoked = await _all_pages(lister, status="revoked")
    assert sorted(revoked) == [f"key-{i:02d}" for i in range(0, 25, 4)]
    live = await _all_pages(lister, environment="live", type="publishable")
    assert sorted(live) == [f"key-{i:02d}" for i in range(0, 25, 5)]
    assert await _all_pages(lister, type="publishable", environment="test") == []
    assert sorted(await _all_pages(lister, q="KEY-1")) == [f"key-1{i}" for i in range(10)]
    active_secret = await _all_pages(lister, status="active", type="secret", q="key")
    expected = [i for i in range(25) if i % 4 and i % 5]
    assert sorted(active_secret) == [f"key-{i:02d}" for i in expected]
    none = await lister.get("", q="no such key")
    assert "No keys match these filters." in none.text
    assert key_ids(none.text) == []


@pytest.mark.parametrize(
    "params",
    [
        {"status": "deleted"},
        {"type": "root"},
        {"environment": "prod"},
        {"sort": "id"},
        {"q": "x" * 101},
        {"cursor": "not-a-cursor"},
        {"cursor": "61.key_x"},
        {"sort": "name", "cursor": "6.key_" + "0" * 26},
        {"q": "nul\x00"},
    ],
)
async def test_a_bad_filter_is_a_clear_400(lister: PageClient, params: dict[str, str]) -> None:
    answer = await lister.get("", **params)
    assert answer.status_code == 400
    assert answer.headers["content-type"].startswith("text/html")
    assert "<h1>" in answer.text
