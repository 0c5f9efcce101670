"""Where a key may be used from, enforced by the middleware on both stores: publishable keys
from their allowed origins (Origin, else Referer), secret keys from their allowed networks (the
middleware's client address) and never from a browser; CORS for publishable routes; refusals
audited once per key and kind an hour and never counted as failed attempts."""

from __future__ import annotations

import httpx
import pytest
from starlette.types import Scope

from keyguard import AuditEventType, KeyGuard
from keyguard.adapters import LocalFailureLimiter

from .conftest import Client, audit_of, bearer, mint

TWICE = range(2)
SHOP = "https://shop.example.com"


def assert_refused(response: httpx.Response, words: str) -> None:
    assert response.status_code == 403
    assert response.json()["error"]["code"] == "FORBIDDEN"
    assert words in response.json()["error"]["message"]


async def test_a_publishable_key_works_from_its_allowed_origins_only(
    guard: KeyGuard, client_for: Client
) -> None:
    key, key_id = await mint(
        guard, access="publishable", allowed_origins=[SHOP, "https://*.example.org"]
    )
    async with client_for() as client:
        for _ in TWICE:
            ok = await client.get("/v1/products", headers=bearer(key, origin=SHOP))
            assert ok.status_code == 200
            assert ok.headers["access-control-allow-origin"] == SHOP
            assert ok.headers["vary"] == "Origin"
            sub = await client.get(
                "/v1/products", headers=bearer(key, origin="https://a.example.org")
            )
            assert sub.status_code == 200
            referer = bearer(key, referer=f"{SHOP}/cart?step=2")
            assert (await client.get("/v1/products", headers=referer)).status_code == 200
            for origin in ("https://evil.example.com", "http://shop.example.com", "null"):
                other = await client.get("/v1/products", headers=bearer(key, origin=origin))
                assert_refused(other, "not one of the key's allowed origins")
                assert "access-control-allow-origin" not in other.headers
            # A request naming no origin at all: the list is worth nothing if it may be left out.
            assert_refused(await client.get("/v1/products", headers=bearer(key)), "allowed origins")
    (event,) = await audit_of(guard, key_id)
    assert event.event is AuditEventType.REFUSED_ORIGIN
    assert event.data["origin"] == "https://evil.example.com"
    assert event.actor == "keyguard"


async def test_a_publishable_key_with_no_list_works_from_anywhere(
    guard: KeyGuard, client_for: Client
) -> None:
    key, _ = await mint(guard, access="publishable")
    async with client_for() as client:
        for origin in ("https://anyone.example", SHOP):
            ok = await client.get("/v1/products", headers=bearer(key, origin=origin))
            assert ok.status_code == 200
            assert ok.headers["access-control-allow-origin"] == origin
        assert (await client.get("/v1/products", headers=bearer(key))).status_code == 200


@pytest.mark.parametrize(
    ("address", "allowed"),
    [("10.1.2.3", True), ("192.0.2.7", True), ("::ffff:10.9.9.9", True), ("2001:db8::5", True),
     ("203.0.113.9", False), ("11.0.0.1", False), ("2001:db9::1", False)],
)  # fmt: skip
async def test_a_secret_key_works_from_its_allowed_networks_only(
    guard: KeyGuard, client_for: Client, address: str, allowed: bool
) -> None:
    networks = ["10.0.0.0/8", "192.0.2.7", "2001:db8::/32"]
    key, key_id = await mint(guard, allowed_networks=networks)
    async with client_for(client=(address, 4000)) as client:
        for _ in TWICE:
            response = await client.get("/v1/orders", headers=bearer(key))
            if allowed:
                assert response.status_code == 200
            else:
                assert_refused(response, "outside the key's allowed networks")
    if not allowed:
        (event,) = await audit_of(guard, key_id)
        assert (event.event, dict(event.data)) == (
            AuditEventType.REFUSED_NETWORK,
            {"client": address},
        )


async def test_networks_are_checked_against_the_middlewares_client_address(
    guard: KeyGuard, client_for: Client
) -> None:
    """Behind a trusted proxy the app says where a request came from; keyguard uses that."""

    def forwarded_for(scope: Scope) -> str:
        headers: dict[bytes, bytes] = dict(scope["headers"])
        return headers.get(b"x-forwarded-for", b"unknown").decode().split(",")[0].strip()

    key, _ = await mint(guard, allowed_networks=["10.0.0.0/8"])
    async with client_for(client=("127.0.0.1", 1), client_address=forwarded_for) as client:
        inside = bearer(key, **{"x-forwarded-for": "10.2.3.4, 127.0.0.1"})
        assert (await client.get("/v1/orders", headers=inside)).status_code == 200
        outside = bearer(key, **{"x-forwarded-for": "198.51.100.1"})
        assert (await client.get("/v1/orders", headers=outside)).status_code == 403


@pytest.mark.parametrize(
    "signal",
    [{"sec-fetch-site": "cross-site"}, {"sec-fetch-site": "same-site"},
     {"sec-fetch-site": "same-origin", "sec-fetch-mode": "cors"},
     {"sec-fetch-site": "none", "sec-fetch-mode": "navigate"}, {"origin": SHOP}],
)  # fmt: skip
async def test_a_secret_key_from_a_browser_is_refused_unless_the_app_allows_it(
    guard: KeyGuard, client_for: Client, signal: dict[str, str]
) -> None:
    key, key_id = await mint(guard)
    async with client_for() as client:
        for _ in TWICE:
            refused = await client.get("/v1/orders", headers=bearer(key, **signal))
            assert_refused(refused, "Secret API keys must stay on servers")
        plain = bearer(key, **{"sec-fetch-site": "none", "user-agent": "curl/8.5"})
        assert (await client.get("/v1/orders", headers=plain)).status_code == 200
        # Node's built-in fetch (undici) sends `Sec-Fetch-Mode: cors` alone, from servers.
        node = bearer(key, **{"sec-fetch-mode": "cors", "user-agent": "node"})
        assert (await client.get("/v1/orders", headers=node)).status_code == 200
    (event,) = await audit_of(guard, key_id)
    assert event.event is AuditEventType.REFUSED_BROWSER
    async with client_for(refuse_secret_keys_from_browsers=False) as client:
        assert (await client.get("/v1/orders", headers=bearer(key, **signal))).status_code == 200


async def test_the_middleware_answers_cors_preflights_for_publishable_routes_only(
    guard: KeyGuard, client_for: Client
) -> None:
    preflight = {"origin": SHOP, "access-control-request-method": "POST"}
    async with client_for() as client:
        answered = await client.options("/v1/carts", headers=preflight)
        assert answered.status_code == 204
        assert answered.headers["access-control-allow-origin"] == SHOP
        assert answered.headers["access-control-allow-methods"] == "POST"
        assert "authorization" in answered.headers["access-control-allow-headers"]
        assert "access-control-allow-credentials" not in answered.headers
        # Not a publishable route (or method): no CORS answer, so the browser stops there.
        assert (await client.options("/v1/orders", headers=preflight)).status_code == 401
        wrong_method = {**preflight, "access-control-request-method": "DELETE"}
        assert (await client.options("/v1/carts", headers=wrong_method)).status_code == 401
    async with client_for(cors=False) as client:
        assert (await client.options("/v1/carts", headers=preflight)).status_code == 401


async def test_refusals_of_keys_in_the_wrong_place_are_not_failed_attempts(
    guard: KeyGuard, client_for: Client
) -> None:
    key, key_id = await mint(guard, allowed_networks=["10.0.0.0/8"])
    limiter = LocalFailureLimiter(limit=3, window=60.0)
    async with client_for(client=("203.0.113.1", 1), failure_limiter=limiter) as client:
        for _ in range(10):
            assert (await client.get("/v1/orders", headers=bearer(key))).status_code == 403
        # Still 401, not 429: the ten refusals spent none of this client's failure budget.
        garbage = await client.get("/v1/orders", headers=bearer("sk_live_" + "x" * 40))
        assert garbage.status_code == 401
    assert len(await audit_of(guard, key_id)) == 1  # ten refusals, one audit row this hour


@pytest.mark.parametrize(
    ("column", "stored"),
    [("allowed_networks", '["10.0.0.1/8"]'), ("allowed_networks", '["garbage"]'),
     ("permissions", "[1]"), ("permissions", '"orders:read"'), ("allowed_origins", "[]")],
)  # fmt: skip
async def test_a_stored_row_with_malformed_restrictions_is_503_never_wider_never_500(
    guard: KeyGuard, client_for: Client, column: str, stored: str
) -> None:
    """A row edited by hand (or by a writer with a bug) cannot be vouched for: the key gets
    503 until it is mended, and other keys are not affected."""
    key, key_id = await mint(guard, permissions=["orders:read"], allowed_networks=["10.0.0.0/8"])
    other, _ = await mint(guard)
    async with guard.store._session() as runner:  # type: ignore[attr-defined]
        await runner.execute(
            f"UPDATE keyguard_keys SET {column} = $1 WHERE id = $2", stored, key_id
        )
    async with client_for(client=("10.1.1.1", 1)) as client:
        assert (await client.get("/v1/orders", headers=bearer(key))).status_code == 503
        assert (await client.get("/v1/orders", headers=bearer(other))).status_code == 200


async def test_publishable_answers_vary_by_origin_and_never_name_null(
    guard: KeyGuard, client_for: Client
) -> None:
    key, _ = await mint(guard, access="publishable")
    async with client_for() as client:
        plain = await client.get("/v1/products", headers=bearer(key))
        assert plain.headers["vary"] == "Origin"  # a shared cache must not reuse it elsewhere
        assert "access-control-allow-origin" not in plain.headers
        sandboxed = await client.get("/v1/products", headers=bearer(key, origin="null"))
        assert sandboxed.status_code == 200
        assert "access-control-allow-origin" not in sandboxed.headers


async def test_the_preflight_allows_x_api_key_where_the_middleware_reads_it(
    guard: KeyGuard, client_for: Client
) -> None:
    preflight = {"origin": SHOP, "access-control-request-method": "GET"}
    async with client_for() as client:
        allowed = (await client.options("/v1/products", headers=preflight)).headers
        assert "x-api-key" not in allowed["access-control-allow-headers"]
    async with client_for(accept_x_api_key=True) as client:
        allowed = (await client.options("/v1/products", headers=preflight)).headers
        assert "x-api-key" in allowed["access-control-allow-headers"]


async def test_a_key_in_a_refused_origin_is_redacted_whole_in_the_audit_log(
    guard: KeyGuard, client_for: Client
) -> None:
    key, key_id = await mint(guard, access="publishable", allowed_origins=[SHOP])
    pasted = "https://" + "a" * 262 + "/" + key  # a key straddling where the text is cut
    async with client_for() as client:
        assert (
            await client.get("/v1/products", headers=bearer(key, origin=pasted))
        ).status_code == 403
    (event,) = await audit_of(guard, key_id)
    assert key[8:20] not in str(event.data["origin"])  # not even the part before the cut
