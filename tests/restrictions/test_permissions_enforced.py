"""What a restricted key may do, enforced by the middleware from the app's route table (before
the app is called), and by Starlette's `@requires` through the key's scopes; on the cache-miss
path and the cache-hit path alike, on both stores."""

from __future__ import annotations

import httpx
import pytest

from keyguard import KeyGuard

from .conftest import ROUTES, BareApp, Client, bearer, mint

TWICE = range(2)  # the first request fills the local cache, the second is a hit


def assert_lacks(response: httpx.Response, *missing: str) -> None:
    assert response.status_code == 403
    error = response.json()["error"]
    assert error["code"] == "FORBIDDEN"
    for permission in missing:
        assert permission in error["message"]
    assert response.headers["www-authenticate"] == (
        f'Bearer realm="api", error="insufficient_scope", scope="{" ".join(missing)}"'
    )


async def test_a_key_may_call_what_its_permissions_grant_and_nothing_else(
    guard: KeyGuard, client_for: Client
) -> None:
    key, _ = await mint(guard, permissions=["orders:read"])
    async with client_for(route_permissions=ROUTES) as client:
        for _ in TWICE:
            assert (await client.get("/v1/orders", headers=bearer(key))).status_code == 200
            assert (await client.get("/v1/orders/7", headers=bearer(key))).status_code == 200
            assert (await client.get("/v1/me", headers=bearer(key))).status_code == 200
            assert_lacks(await client.post("/v1/orders", headers=bearer(key)), "orders:write")
            refund = await client.post("/v1/orders/7/refund", headers=bearer(key))
            assert_lacks(refund, "orders:write", "refunds:write")


async def test_a_resource_star_grants_every_action_of_that_resource(
    guard: KeyGuard, client_for: Client
) -> None:
    key, _ = await mint(guard, permissions=["orders:*"])
    async with client_for(route_permissions=ROUTES) as client:
        for _ in TWICE:
            assert (await client.post("/v1/orders", headers=bearer(key))).status_code == 200
            refund = await client.post("/v1/orders/7/refund", headers=bearer(key))
            assert_lacks(refund, "refunds:write")


async def test_a_route_the_table_does_not_list_is_closed_to_restricted_keys_only(
    guard: KeyGuard, client_for: Client
) -> None:
    restricted, _ = await mint(guard, permissions=["orders:*"])
    unrestricted, _ = await mint(guard)
    async with client_for(route_permissions=ROUTES) as client:
        for _ in TWICE:
            refused = await client.get("/v1/admin/export", headers=bearer(restricted))
            assert refused.status_code == 403
            assert "not open to restricted keys" in refused.json()["error"]["message"]
            assert 'error="insufficient_scope"' in refused.headers["www-authenticate"]
            allowed = await client.get("/v1/admin/export", headers=bearer(unrestricted))
            assert allowed.status_code == 200


async def test_an_unrestricted_key_keeps_todays_meaning(
    guard: KeyGuard, client_for: Client
) -> None:
    secret, _ = await mint(guard)
    publishable, _ = await mint(guard, access="publishable")
    async with client_for(route_permissions=ROUTES) as client:
        for _ in TWICE:
            for path in ("/v1/orders", "/v1/products", "/v1/admin/export"):
                assert (await client.get(path, headers=bearer(secret))).status_code == 200
            assert (
                await client.get("/v1/products", headers=bearer(publishable))
            ).status_code == 200
            # A publishable key stays on the publishable routes, whatever the table says.
            assert (await client.get("/v1/orders", headers=bearer(publishable))).status_code == 403


async def test_a_key_with_no_permissions_may_do_nothing_the_table_lists(
    guard: KeyGuard, client_for: Client
) -> None:
    key, _ = await mint(guard, permissions=[])
    async with client_for(route_permissions=ROUTES) as client:
        for _ in TWICE:
            assert_lacks(await client.get("/v1/orders", headers=bearer(key)), "orders:read")
            # A route that needs no permission is open to any key that reaches it.
            assert (await client.get("/v1/me", headers=bearer(key))).status_code == 200


async def test_a_restricted_publishable_key_needs_both_the_route_and_the_permission(
    guard: KeyGuard, client_for: Client
) -> None:
    key, _ = await mint(guard, access="publishable", permissions=["products:read"])
    async with client_for(route_permissions=ROUTES) as client:
        for _ in TWICE:
            assert (await client.get("/v1/products/1", headers=bearer(key))).status_code == 200
            assert_lacks(await client.post("/v1/carts", headers=bearer(key)), "carts:write")
            assert (await client.get("/v1/orders", headers=bearer(key))).status_code == 403


async def test_the_table_is_checked_before_a_bare_asgi_app_is_called(
    guard: KeyGuard, client_for: Client
) -> None:
    app = BareApp()
    key, _ = await mint(guard, permissions=["orders:read"])
    async with client_for(app, route_permissions=ROUTES) as client:
        for _ in TWICE:
            assert_lacks(await client.post("/v1/orders", headers=bearer(key)), "orders:write")
        assert app.calls == 0
        assert (await client.get("/v1/orders", headers=bearer(key))).status_code == 200
        assert app.calls == 1


async def test_permissions_are_starlette_scopes_for_requires(
    guard: KeyGuard, client_for: Client
) -> None:
    writer, _ = await mint(guard, permissions=["orders:write"])
    reader, _ = await mint(guard, permissions=["orders:read"])
    unrestricted, _ = await mint(guard)
    async with client_for() as client:  # no route table: the app's @requires decides
        for _ in TWICE:
            assert (await client.post("/v1/decorated", headers=bearer(writer))).status_code == 200
            assert (
                await client.post("/v1/decorated", headers=bearer(unrestricted))
            ).status_code == 200
            refused = await client.post("/v1/decorated", headers=bearer(reader))
            assert refused.status_code == 403
            assert refused.json()["error"]["code"] == "FORBIDDEN"
        me = (await client.get("/v1/me", headers=bearer(reader))).json()
        assert me["scopes"] == ["authenticated", "secret", "env:live", "orders:read"]


async def test_a_change_of_permissions_takes_effect_on_the_next_request(
    guard: KeyGuard, client_for: Client
) -> None:
    key, key_id = await mint(guard, permissions=["orders:read", "orders:write"])
    async with client_for(route_permissions=ROUTES) as client:
        assert (await client.post("/v1/orders", headers=bearer(key))).status_code == 200
        await guard.manager.restrict(key_id, permissions=["orders:read"])
        assert_lacks(await client.post("/v1/orders", headers=bearer(key)), "orders:write")
        await guard.manager.restrict(key_id, permissions=None)
        assert (await client.get("/v1/admin/export", headers=bearer(key))).status_code == 200


@pytest.mark.parametrize(
    "table",
    [{"GET /v1/orders": "Orders:read"}, {"GET /v1/orders": ["orders"]},
     {"GET /v1/orders": "env:live"}, {"GET v1/orders": "orders:read"}, {"GET /v1/orders": [7]}],
)  # fmt: skip
def test_a_bad_route_table_fails_at_start_up(
    guard: KeyGuard, client_for: Client, table: object
) -> None:
    with pytest.raises(ValueError, match=r"route|rule"):
        client_for(route_permissions=table)


async def test_without_a_table_the_log_says_once_that_only_the_app_checks_permissions(
    guard: KeyGuard, client_for: Client, caplog: pytest.LogCaptureFixture
) -> None:
    key, _ = await mint(guard, permissions=[])
    async with client_for() as client:
        for _ in range(3):  # no table, no @requires on /v1/me: the app lets it in
            assert (await client.get("/v1/me", headers=bearer(key))).status_code == 200
    told = [r for r in caplog.records if "no route_permissions" in r.getMessage()]
    assert len(told) == 1
    assert told[0].levelname == "WARNING"
