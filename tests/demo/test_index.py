"""`GET /`: with no key, the demo says what to try, and every path it names answers."""

from __future__ import annotations

import httpx

from keyguard import KeyGuard
from keyguard.cli._demo import token_admin_page
from keyguard.demo import ADMIN_PATH, DEMO_ACCOUNT, create_app
from keyguard.web import management_routes

from ._support import Keys, bearer, data_of


async def test_the_index_needs_no_key(client: httpx.AsyncClient) -> None:
    index = data_of(await client.get("/"))
    assert index["name"] == "keyguard demo storefront"
    paths = {(p["method"], p["path"]) for p in index["try"]}
    assert {("GET", "/health"), ("GET", "/v1/me"), ("GET", "/v1/storefront/products")} <= paths
    assert (await client.head("/")).status_code == 200


async def test_only_the_index_is_public_not_what_is_below_it(client: httpx.AsyncClient) -> None:
    assert (await client.get("/v1/storefront/products")).status_code == 401
    assert (await client.get("/nowhere")).status_code == 401


async def test_every_path_the_index_names_answers_with_the_key_it_names(
    guard: KeyGuard, keys: Keys
) -> None:
    page = token_admin_page(guard, DEMO_ACCOUNT)
    app = create_app(guard, management_routes=management_routes(guard), admin_page=page)
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        named = data_of(await client.get("/"))["try"]
        paths = [p["path"] for p in named]
        assert "/v1/account/openapi.json" in paths
        assert ADMIN_PATH in paths
        for entry in named:
            if entry["method"] != "GET":
                continue
            key = keys.pk_test if entry["key"] == "secret or publishable" else keys.sk_test
            headers = {} if entry["key"].startswith("none") else bearer(key)
            answer = await client.get(entry["path"], headers=headers)
            if entry["path"] == ADMIN_PATH:  # the page's own answer to no session: not an API key's
                assert answer.headers["content-type"].startswith("text/html"), entry
            else:
                assert answer.status_code == 200, entry


async def test_the_index_names_no_management_api_or_admin_page_that_is_not_there(
    client: httpx.AsyncClient,
) -> None:
    paths = [p["path"] for p in data_of(await client.get("/"))["try"]]
    assert "/v1/account/openapi.json" not in paths
    assert ADMIN_PATH not in paths
