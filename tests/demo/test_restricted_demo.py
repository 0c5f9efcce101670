"""The demo storefront states what its routes need: a restricted key reads the catalogue with
`products:read` and is told what it lacks to add to it; an unrestricted key is not affected."""

from __future__ import annotations

import httpx

from keyguard import KeyGuard

PRODUCT = {"name": "Mug", "price": 9.5, "stock": {"test": 3}}


async def test_a_restricted_key_does_what_its_permissions_say_in_the_demo(
    guard: KeyGuard, client: httpx.AsyncClient
) -> None:
    reader = await guard.manager.create(
        account="demo", name="reader", environment="test", access="secret",
        permissions=["products:read"],
    )  # fmt: skip
    auth = {"authorization": f"Bearer {reader.value}"}
    assert (await client.get("/v1/storefront/products", headers=auth)).status_code == 200
    assert (await client.get("/v1/me", headers=auth)).status_code == 200
    refused = await client.post("/v1/storefront/products", headers=auth, json=PRODUCT)
    assert refused.status_code == 403
    assert "products:write" in refused.json()["error"]["message"]
    assert refused.headers["www-authenticate"].endswith('scope="products:write"')


async def test_an_unrestricted_key_still_adds_products(
    guard: KeyGuard, client: httpx.AsyncClient
) -> None:
    owner = await guard.manager.create(
        account="demo", name="owner", environment="test", access="secret"
    )
    auth = {"authorization": f"Bearer {owner.value}"}
    added = await client.post("/v1/storefront/products", headers=auth, json=PRODUCT)
    assert added.status_code == 201, added.text
