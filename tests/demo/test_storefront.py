"""The demo storefront, route by route, with secret and publishable keys of both environments."""

from __future__ import annotations

from pathlib import Path

import httpx
import pytest
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.routing import Route

from keyguard import KeyGuard, Settings
from keyguard.core import detail_view, utcnow
from keyguard.demo import create_app, ensure_demo_keys

from ._support import Keys, bearer, data_of, error_of, lifespan

PRODUCTS = "/v1/storefront/products"
TEST_NAMES = ["Test Mug", "Test T-shirt"]
LIVE_NAMES = ["Ceramic Mug", "Organic T-shirt", "Canvas Tote"]


async def test_health_needs_no_key(client: httpx.AsyncClient) -> None:
    assert data_of(await client.get("/health")) == {"status": "ok"}


async def test_a_sane_request_id_is_echoed_and_an_odd_one_replaced(
    client: httpx.AsyncClient,
) -> None:
    sane = await client.get("/health", headers={"X-Request-ID": "trace-42"})
    assert sane.json()["meta"]["requestId"] == "trace-42"
    odd = await client.get("/health", headers={"X-Request-ID": "no spaces allowed"})
    assert odd.json()["meta"]["requestId"].startswith("req_")


@pytest.mark.parametrize(
    "path", ["/v1/me", PRODUCTS, f"{PRODUCTS}/prod_1", "/v1/storefront/public/info"]
)
async def test_every_other_route_needs_a_key(client: httpx.AsyncClient, path: str) -> None:
    response = await client.get(path)
    error_of(response, 401, "INVALID_API_KEY")
    assert response.headers["www-authenticate"] == 'Bearer realm="api"'


async def test_a_post_without_a_key_is_401(client: httpx.AsyncClient) -> None:
    error_of(await client.post(PRODUCTS, json={"name": "x", "price": 1}), 401, "INVALID_API_KEY")


@pytest.mark.parametrize(
    ("which", "names"),
    [
        ("sk_test", TEST_NAMES),
        ("pk_test", TEST_NAMES),
        ("sk_live", LIVE_NAMES),
        ("pk_live", LIVE_NAMES),
    ],
)
async def test_each_environment_lists_its_own_products(
    client: httpx.AsyncClient, keys: Keys, which: str, names: list[str]
) -> None:
    key = getattr(keys, which)
    response = await client.get(PRODUCTS, headers=bearer(key))
    products = data_of(response)
    assert [p["name"] for p in products] == names
    assert {p["environment"] for p in products} == {key.record.environment}
    assert response.json()["meta"]["environment"] == key.record.environment


async def test_one_product_is_read_in_the_keys_environment(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    assert data_of(await client.get(f"{PRODUCTS}/prod_1", headers=bearer(keys.pk_test))) == {
        "id": "prod_1",
        "name": "Test Mug",
        "price": 1.0,
        "currency": "USD",
        "environment": "test",
    }
    live = data_of(await client.get(f"{PRODUCTS}/prod_1", headers=bearer(keys.sk_live)))
    assert live["name"] == "Ceramic Mug"
    assert data_of(await client.get(f"{PRODUCTS}/prod_3", headers=bearer(keys.pk_live)))[
        "name"
    ] == ("Canvas Tote")


async def test_an_unknown_product_is_404_in_the_envelope(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    # prod_3 exists in live only: a test key cannot see it.
    for key in (keys.sk_test, keys.pk_test):
        error_of(await client.get(f"{PRODUCTS}/prod_3", headers=bearer(key)), 404, "NOT_FOUND")
    error_of(await client.get(f"{PRODUCTS}/nope", headers=bearer(keys.sk_live)), 404, "NOT_FOUND")


async def test_public_pages_answer_any_key(client: httpx.AsyncClient, keys: Keys) -> None:
    for key in keys:
        response = await client.get("/v1/storefront/public/info", headers=bearer(key))
        info = data_of(response)
        assert info["name"] == "keyguard demo store"
        assert info["environment"] == key.record.environment
    shipping = await client.get("/v1/storefront/public/shipping", headers=bearer(keys.pk_test))
    assert "ship" in data_of(shipping)["text"]
    missing = await client.get("/v1/storefront/public/a/b", headers=bearer(keys.pk_live))
    error_of(missing, 404, "NOT_FOUND")


async def test_a_secret_key_adds_a_product_to_its_own_environment(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    response = await client.post(
        PRODUCTS, headers=bearer(keys.sk_test), json={"name": "  Demo Mug ", "price": 9.499}
    )
    product = data_of(response, 201)
    assert product == {
        "id": "prod_3",
        "name": "Demo Mug",
        "price": 9.5,
        "currency": "USD",
        "environment": "test",
    }
    assert response.headers["location"] == f"{PRODUCTS}/prod_3"
    test_names = [
        p["name"] for p in data_of(await client.get(PRODUCTS, headers=bearer(keys.pk_test)))
    ]
    assert test_names == [*TEST_NAMES, "Demo Mug"]
    live_names = [
        p["name"] for p in data_of(await client.get(PRODUCTS, headers=bearer(keys.pk_live)))
    ]
    assert live_names == LIVE_NAMES


@pytest.mark.parametrize("which", ["pk_test", "pk_live"])
async def test_a_publishable_key_cannot_add_a_product(
    client: httpx.AsyncClient, keys: Keys, which: str
) -> None:
    key = getattr(keys, which)
    response = await client.post(PRODUCTS, headers=bearer(key), json={"name": "x", "price": 1})
    error = error_of(response, 403, "FORBIDDEN")
    assert set(error) == {"code", "message"}
    listed = data_of(await client.get(PRODUCTS, headers=bearer(key)))
    assert "x" not in [p["name"] for p in listed]


@pytest.mark.parametrize(
    ("body", "fields"),
    [
        ({"name": "", "price": -1}, ["name", "price"]),
        ({"name": "Mug"}, ["price"]),
        ({"name": "Mug", "price": True}, ["price"]),
        ({"name": "Mug", "price": "12"}, ["price"]),
        ({"name": "Mug", "price": 10**7}, ["price"]),
        ({"price": 3}, ["name"]),
        (["Mug", 3], ["body"]),
    ],
)
async def test_an_invalid_product_is_400_naming_the_fields(
    client: httpx.AsyncClient, keys: Keys, body: object, fields: list[str]
) -> None:
    response = await client.post(PRODUCTS, headers=bearer(keys.sk_test), json=body)
    error = error_of(response, 400, "VALIDATION_ERROR")
    assert [d["field"] for d in error["details"]] == fields


async def test_a_body_that_is_not_json_is_400(client: httpx.AsyncClient, keys: Keys) -> None:
    for content in (b"{nope", b"\xff\xfe", b"NaN"):
        response = await client.post(PRODUCTS, headers=bearer(keys.sk_test), content=content)
        error = error_of(response, 400, "VALIDATION_ERROR")
        assert error["details"][0]["field"] in {"body", "price"}


async def test_a_body_past_the_limit_is_413(client: httpx.AsyncClient, keys: Keys) -> None:
    big = {"name": "Mug", "price": 1, "padding": "x" * 20_000}
    response = await client.post(PRODUCTS, headers=bearer(keys.sk_test), json=big)
    error_of(response, 413, "PAYLOAD_TOO_LARGE")


async def test_me_shows_the_record_and_never_the_value(
    client: httpx.AsyncClient, keys: Keys
) -> None:
    for key in (keys.sk_test, keys.sk_live):
        response = await client.get("/v1/me", headers=bearer(key))
        me = data_of(response)
        assert me == detail_view(key.record, utcnow()) | {"lastUsedAt": me["lastUsedAt"]}
        assert (me["environment"], me["access"]) == (key.record.environment, "secret")
        assert "value" not in me
        assert key.value not in response.text
        assert key.value[len(key.record.prefix) : -4] not in response.text


async def test_a_publishable_key_cannot_read_me(client: httpx.AsyncClient, keys: Keys) -> None:
    error_of(await client.get("/v1/me", headers=bearer(keys.pk_test)), 403, "FORBIDDEN")


async def test_router_errors_are_envelopes_too(client: httpx.AsyncClient, keys: Keys) -> None:
    error_of(await client.get("/v1/nowhere", headers=bearer(keys.sk_test)), 404, "NOT_FOUND")
    response = await client.delete(PRODUCTS, headers=bearer(keys.sk_test))
    error_of(response, 405, "METHOD_NOT_ALLOWED")
    assert set(response.headers["allow"].replace(" ", "").split(",")) >= {"GET", "POST"}


async def test_management_routes_are_mounted_behind_the_middleware(
    guard: KeyGuard, keys: Keys
) -> None:
    async def accounts(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.state.api_key.account)

    app = create_app(guard, management_routes=[Route("/v1/account/whoami", accounts)])
    transport = httpx.ASGITransport(app=app)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
        ok = await client.get("/v1/account/whoami", headers=bearer(keys.sk_test))
        assert (ok.status_code, ok.text) == (200, "acme")
        error_of(await client.get("/v1/account/whoami"), 401, "INVALID_API_KEY")
        refused = await client.get("/v1/account/whoami", headers=bearer(keys.pk_test))
        error_of(refused, 403, "FORBIDDEN")


async def test_each_app_has_its_own_catalogue(guard: KeyGuard, keys: Keys) -> None:
    first, second = create_app(guard), create_app(guard)
    for app, expected in ((first, [*TEST_NAMES, "Only here"]), (second, TEST_NAMES)):
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            if app is first:
                body = {"name": "Only here", "price": 1}
                data_of(await client.post(PRODUCTS, headers=bearer(keys.sk_test), json=body), 201)
            listed = data_of(await client.get(PRODUCTS, headers=bearer(keys.sk_test)))
            assert [p["name"] for p in listed] == expected


async def test_the_apps_lifespan_starts_and_stops_the_guard(tmp_path: Path) -> None:
    guard = KeyGuard(Settings(database_url=f"sqlite:///{tmp_path}/own.db", pepper="p"))
    async with lifespan(create_app(guard)):
        assert guard.started
        assert await ensure_demo_keys(guard)
    assert not guard.started
