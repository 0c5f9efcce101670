"""The middleware through a real Starlette app and httpx: statuses, envelope, headers, scope."""

from __future__ import annotations

import asyncio
import json
from datetime import timedelta
from email.utils import parsedate_to_datetime
from typing import Any

import httpx
import pytest
from starlette.authentication import requires
from starlette.requests import Request
from starlette.responses import PlainTextResponse
from starlette.types import Message, Receive, Scope, Send

from keyguard import KeyGuard
from keyguard.core import id_time_ms, parse_time
from keyguard.web import APIKeyMiddleware

from .._websocket import websocket_handshake
from .conftest import MakeClient, mint


def bearer(key: str) -> dict[str, str]:
    return {"authorization": f"Bearer {key}"}


def assert_envelope(response: httpx.Response, status: int, code: str) -> Message:
    assert response.status_code == status
    body = response.json()
    assert set(body) == {"data", "error", "meta"}
    assert body["data"] is None
    assert body["error"]["code"] == code
    assert body["meta"]["requestId"] == response.headers["x-request-id"]
    assert body["meta"]["timestamp"].endswith("Z")
    parse_time(body["meta"]["timestamp"])
    assert response.headers["content-type"] == "application/json"
    return body  # type: ignore[no-any-return]


async def test_a_valid_key_reaches_the_app_with_record_auth_and_user(
    guard: KeyGuard, client: httpx.AsyncClient
) -> None:
    key = await mint(guard, environment="live")
    response = await client.get("/v1/me", headers=bearer(key))
    assert response.status_code == 200
    body = response.json()
    record = await guard.store.find_by_digest(guard.hasher.digest(key))
    assert record is not None
    assert body == {
        "id": record.id,
        "env": "live",
        "user": record.id,
        "scopes": ["authenticated", "secret", "env:live"],
    }


@pytest.mark.parametrize(
    "header",
    ["Bearer {k}", "bearer {k}", "BEARER   {k}", "{k}", "  Bearer {k}  "],
)
async def test_accepted_authorization_forms(
    guard: KeyGuard, client: httpx.AsyncClient, header: str
) -> None:
    key = await mint(guard)
    response = await client.get("/v1/me", headers={"authorization": header.format(k=key)})
    assert response.status_code == 200


async def test_missing_key_is_401_and_says_so(client: httpx.AsyncClient) -> None:
    body = assert_envelope(await client.get("/v1/me"), 401, "INVALID_API_KEY")
    response = await client.get("/v1/me")
    assert response.headers["www-authenticate"] == 'Bearer realm="api"'
    assert "No API key" in body["error"]["message"]


async def test_unknown_revoked_expired_and_garbage_get_one_generic_401(
    guard: KeyGuard, client: httpx.AsyncClient
) -> None:
    revoked = await guard.manager.create(account="a", name="r", environment="test", access="secret")
    await guard.manager.revoke(revoked.record.id)
    rolled = await guard.manager.create(account="a", name="e", environment="test", access="secret")
    await guard.manager.roll(rolled.record.id, grace=timedelta(0))
    unknown = guard.key_format.generate(revoked.record.access, "test")
    messages = set()
    for key in (revoked.value, rolled.value, unknown, revoked.value[:-1] + "x", "sk_test_short"):
        response = await client.get("/v1/me", headers=bearer(key))
        body = assert_envelope(response, 401, "INVALID_API_KEY")
        assert response.headers["www-authenticate"] == 'Bearer realm="api", error="invalid_token"'
        messages.add(body["error"]["message"])
        assert key not in response.text
    assert len(messages) == 1


@pytest.mark.parametrize(
    "headers",
    [
        [("authorization", "Bearer {k}"), ("authorization", "Bearer {k}")],
        [("authorization", "Bearer")],
        [("authorization", "")],
        [("authorization", "Bearer\t{k}")],
        [("authorization", "Basic {k}")],
        [("authorization", "Bearer " + "A" * 600)],
        [("x-api-key", "{k}")],  # off by default
    ],
)
async def test_bad_headers_are_401_with_no_lookup(
    guard: KeyGuard, client: httpx.AsyncClient, headers: list[tuple[str, str]]
) -> None:
    key = await mint(guard)
    before = guard.verifier.store_lookups
    response = await client.get("/v1/me", headers=[(n, v.format(k=key)) for n, v in headers])
    assert_envelope(response, 401, "INVALID_API_KEY")
    assert guard.verifier.store_lookups == before == 0


async def test_non_ascii_header_bytes_are_401(guard: KeyGuard, client: httpx.AsyncClient) -> None:
    key = await mint(guard)
    response = await client.get(
        "/v1/me", headers=[(b"authorization", f"Bearer {key}\xe9".encode("latin-1"))]
    )
    assert_envelope(response, 401, "INVALID_API_KEY")


async def test_a_key_in_the_query_string_is_never_read(
    guard: KeyGuard, client: httpx.AsyncClient
) -> None:
    key = await mint(guard)
    for query in ({"api_key": key}, {"key": key}, {"authorization": f"Bearer {key}"}):
        assert_envelope(await client.get("/v1/me", params=query), 401, "INVALID_API_KEY")


async def test_x_api_key_when_enabled(guard: KeyGuard, client_for: MakeClient) -> None:
    key = await mint(guard)
    async with client_for(accept_x_api_key=True) as client:
        assert (await client.get("/v1/me", headers={"x-api-key": key})).status_code == 200
        both = {"x-api-key": key, "authorization": f"Bearer {key}"}
        assert_envelope(await client.get("/v1/me", headers=both), 401, "INVALID_API_KEY")


async def test_public_paths_need_no_key(guard: KeyGuard, client: httpx.AsyncClient) -> None:
    assert (await client.get("/health")).json() == {"ok": True, "key": False}
    garbage = await client.get("/health", headers=bearer("sk_test_nonsense"))
    assert garbage.status_code == 200
    assert guard.verifier.store_lookups == 0


@pytest.mark.parametrize(
    ("method", "path", "status"),
    [
        ("GET", "/v1/storefront/products", 200),
        ("HEAD", "/v1/storefront/products", 200),
        ("GET", "/v1/storefront/products/p1", 200),
        ("GET", "/v1/storefront/public/logo.png", 200),
        ("POST", "/v1/storefront/products", 403),
        ("GET", "/v1/me", 403),
        ("GET", "/v1/storefront/products/p1/../../../v1/me", 403),
    ],
)
async def test_publishable_keys_only_reach_their_routes(
    guard: KeyGuard, client: httpx.AsyncClient, method: str, path: str, status: int
) -> None:
    key = await mint(guard, access="publishable")
    response = await client.request(method, path, headers=bearer(key))
    assert response.status_code == status
    if status == 403:
        assert_envelope(response, 403, "FORBIDDEN")


async def test_secret_keys_reach_everything(guard: KeyGuard, client: httpx.AsyncClient) -> None:
    key = await mint(guard)
    for method, path in (("POST", "/v1/storefront/products"), ("GET", "/v1/me")):
        assert (await client.request(method, path, headers=bearer(key))).status_code == 200


async def test_a_test_key_is_403_where_the_app_requires_live(
    guard: KeyGuard, client_for: MakeClient
) -> None:
    test_key, live_key = await mint(guard), await mint(guard, environment="live")
    async with client_for(require_environment="live") as client:
        assert_envelope(await client.get("/v1/me", headers=bearer(test_key)), 403, "FORBIDDEN")
        assert (await client.get("/v1/me", headers=bearer(live_key))).status_code == 200
    with pytest.raises(ValueError, match="unknown environment"):
        client_for(require_environment="prod")


async def test_request_id_is_echoed_when_sane_and_minted_otherwise(
    client: httpx.AsyncClient,
) -> None:
    sane = await client.get("/v1/me", headers={"x-request-id": "abc-123.x:y"})
    assert sane.headers["x-request-id"] == "abc-123.x:y"
    for bad in ("", "a b", "x" * 200, "<script>"):
        response = await client.get("/v1/me", headers={"x-request-id": bad})
        assert response.headers["x-request-id"].startswith("req_")
        assert bad not in response.text or bad == ""


async def test_requires_decorator_and_request_user_work_unchanged(
    guard: KeyGuard, client_for: MakeClient
) -> None:
    from starlette.applications import Starlette
    from starlette.routing import Route

    from keyguard.web import APIKeyMiddleware

    @requires(["authenticated", "secret"])
    async def admin(request: Request) -> PlainTextResponse:
        return PlainTextResponse(request.user.display_name)

    app = APIKeyMiddleware(Starlette(routes=[Route("/v1/storefront/products", admin)]), guard=guard)
    secret, publishable = await mint(guard), await mint(guard, access="publishable")
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://t") as c:
        ok = await c.get("/v1/storefront/products", headers=bearer(secret))
        assert (ok.status_code, ok.text) == (200, "k")
        denied = await c.get("/v1/storefront/products", headers=bearer(publishable))
        assert denied.status_code == 403  # Starlette's own requires() refuses


async def test_a_key_in_its_roll_grace_is_accepted_with_deprecation_and_sunset(
    guard: KeyGuard, client: httpx.AsyncClient
) -> None:
    old = await guard.manager.create(account="a", name="r", environment="test", access="secret")
    new = await guard.manager.roll(old.record.id, grace=timedelta(hours=1))
    response = await client.get("/v1/me", headers=bearer(old.value))
    assert response.status_code == 200
    rolled = await guard.manager.get(old.record.id)
    assert rolled.expires_at is not None
    assert parsedate_to_datetime(response.headers["sunset"]) == rolled.expires_at.replace(
        microsecond=0
    )
    assert response.headers["deprecation"] == f"@{id_time_ms(new.record.id) // 1000}"
    fresh = await client.get("/v1/me", headers=bearer(new.value))
    assert "deprecation" not in fresh.headers


async def test_repeated_failures_from_one_client_become_429_without_lookups(
    guard: KeyGuard, client_for: MakeClient
) -> None:
    from keyguard.adapters import LocalFailureLimiter

    limiter = LocalFailureLimiter(limit=3, window=60)
    valid = await mint(guard)
    await guard.verifier.verify(valid)  # cached: a blocked client with a good key still gets in
    async with client_for(failure_limiter=limiter) as client:
        unknown = [
            guard.key_format.generate(guard.key_format.parse(valid).access, "test")
            for _ in range(6)
        ]
        statuses = [
            (await client.get("/v1/me", headers=bearer(k))).status_code for k in unknown[:4]
        ]
        assert statuses == [401, 401, 401, 429]  # three lookups were allowed, each failed
        lookups = guard.verifier.store_lookups
        limited = await client.get("/v1/me", headers=bearer(unknown[4]))
        assert_envelope(limited, 429, "RATE_LIMITED")
        assert int(limited.headers["retry-after"]) >= 1
        assert guard.verifier.store_lookups == lookups  # no lookup for a blocked client
        assert (await client.get("/v1/me", headers=bearer(valid))).status_code == 200
        assert (await client.get("/v1/me")).status_code == 401  # a missing key is not a guess


async def test_store_down_is_503_for_uncached_keys_and_never_200(
    guard: KeyGuard, client: httpx.AsyncClient
) -> None:
    cached, uncached = await mint(guard), await mint(guard)
    assert (await client.get("/v1/me", headers=bearer(cached))).status_code == 200
    await guard.store.close()
    response = await client.get("/v1/me", headers=bearer(uncached))
    assert_envelope(response, 503, "SERVICE_UNAVAILABLE")
    assert response.headers["retry-after"] == "5"
    assert (await client.get("/v1/me", headers=bearer(cached))).status_code == 200
    guard.verifier.local.clear()  # as if its TTL ran out
    assert (await client.get("/v1/me", headers=bearer(cached))).status_code == 503
    await guard.store.open()


async def test_1000_concurrent_requests_for_one_cold_key_make_one_store_query(
    guard: KeyGuard, client: httpx.AsyncClient
) -> None:
    key = await mint(guard)
    responses = await asyncio.gather(
        *(client.get("/v1/me", headers=bearer(key)) for _ in range(1000))
    )
    assert {r.status_code for r in responses} == {200}
    assert guard.verifier.store_lookups == 1


async def test_lifespan_starts_and_stops_the_guard_and_flushes_last_used(tmp_path: object) -> None:
    from starlette.applications import Starlette

    from keyguard import Settings
    from keyguard.web import APIKeyMiddleware

    guard = KeyGuard(Settings(database_url=f"sqlite:///{tmp_path}/k.db", last_used_interval=3600))
    app = APIKeyMiddleware(Starlette(routes=[]), guard=guard)
    sent: list[Message] = []
    incoming: list[Message] = [{"type": "lifespan.startup"}, {"type": "lifespan.shutdown"}]

    async def receive() -> Message:
        return incoming.pop(0)

    async def send(message: Message) -> None:
        sent.append(message)
        if message["type"] == "lifespan.startup.complete":
            assert guard.started
            created = await guard.manager.create(
                account="a", name="n", environment="test", access="secret"
            )
            assert await guard.verifier.verify(created.value) == created.record
            assert guard.last_used.pending == 1

    await app({"type": "lifespan", "asgi": {"version": "3.0"}, "state": {}}, receive, send)
    assert [m["type"] for m in sent] == ["lifespan.startup.complete", "lifespan.shutdown.complete"]
    assert not guard.started
    await guard.store.open()
    keys = (await guard.manager.list(__import__("keyguard").KeyQuery())).items
    assert keys[0].last_used_at is not None
    await guard.store.close()


async def _websocket(
    guard: KeyGuard, headers: list[tuple[bytes, bytes]], extensions: Message
) -> list[Message]:
    """Drive one WebSocket handshake through the middleware as a server would."""
    from keyguard.web import APIKeyMiddleware

    from .conftest import storefront

    return await websocket_handshake(
        APIKeyMiddleware(storefront(), guard=guard), headers, extensions
    )


async def test_websocket_with_a_valid_key_reaches_the_app(guard: KeyGuard) -> None:
    created = await guard.manager.create(
        account="a", name="ws", environment="test", access="secret"
    )
    sent = await _websocket(guard, [(b"authorization", f"Bearer {created.value}".encode())], {})
    assert [m["type"] for m in sent] == ["websocket.accept", "websocket.send", "websocket.close"]
    assert sent[1]["text"] == created.record.id


async def test_websocket_without_a_key_is_closed_1008_before_the_app(guard: KeyGuard) -> None:
    sent = await _websocket(guard, [], {})
    assert sent == [{"type": "websocket.close", "code": 1008, "reason": "INVALID_API_KEY"}]


async def test_websocket_denial_response_where_the_server_supports_it(guard: KeyGuard) -> None:
    sent = await _websocket(
        guard, [(b"authorization", b"Bearer sk_test_x")], {"websocket.http.response": {}}
    )
    assert [m["type"] for m in sent] == [
        "websocket.http.response.start",
        "websocket.http.response.body",
    ]
    assert sent[0]["status"] == 401
    assert json.loads(sent[1]["body"])["error"]["code"] == "INVALID_API_KEY"


def test_error_body_is_exactly_the_envelope() -> None:
    from keyguard.core import ErrorCode
    from keyguard.web._envelope import error_body

    body = json.loads(error_body(ErrorCode.FORBIDDEN, "no", "req_1"))
    assert body["data"] is None
    assert body["error"] == {"code": "FORBIDDEN", "message": "no"}
    assert set(body["meta"]) == {"requestId", "timestamp"}


@pytest.mark.parametrize(
    ("headers", "status"),
    [
        ([("authorization", "Bearer {k}")], 200),
        ([("authorization", "{k}")], 200),
        ([("authorization", "Bearer {k}"), ("authorization", "Bearer {k}")], 401),
        ([("authorization", "Bearer\t{k}")], 401),
        ([("authorization", "Basic {k}")], 401),
        ([("authorization", "Bearer {k} ")], 200),
        ([("authorization", "Bearer {k}x")], 401),
        ([("x-api-key", "{k}")], 401),
    ],
)
async def test_a_warm_key_still_meets_every_header_rule(
    guard: KeyGuard, client: httpx.AsyncClient, headers: list[tuple[str, str]], status: int
) -> None:
    key = await mint(guard)
    assert (await client.get("/v1/me", headers=bearer(key))).status_code == 200  # now cached
    response = await client.get("/v1/me", headers=[(n, v.format(k=key)) for n, v in headers])
    assert response.status_code == status


async def test_a_warm_publishable_key_still_meets_its_routes(
    guard: KeyGuard, client: httpx.AsyncClient
) -> None:
    key = await mint(guard, access="publishable")
    assert (await client.get("/v1/storefront/products", headers=bearer(key))).status_code == 200
    assert (await client.get("/v1/me", headers=bearer(key))).status_code == 403
    assert (await client.post("/v1/storefront/products", headers=bearer(key))).status_code == 403
    assert (await client.get("/v1/storefront/products/p1", headers=bearer(key))).status_code == 200


async def test_a_warm_key_revoked_in_this_process_is_refused_at_once(
    guard: KeyGuard, client: httpx.AsyncClient
) -> None:
    created = await guard.manager.create(account="a", name="n", environment="test", access="secret")
    assert (await client.get("/v1/me", headers=bearer(created.value))).status_code == 200
    await guard.manager.revoke(created.record.id)
    assert (await client.get("/v1/me", headers=bearer(created.value))).status_code == 401


async def test_a_key_pasted_into_the_path_never_reaches_our_log(
    guard: KeyGuard, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    key = await mint(guard)
    caplog.set_level("DEBUG")
    response = await client.get(f"/v1/me/{key}")
    assert response.status_code == 401
    ours = [r.getMessage() for r in caplog.records if r.name.startswith("keyguard")]
    assert ours  # the refusal was logged
    assert not any(key in line for line in ours)


async def test_one_request_has_one_id_whoever_asks(guard: KeyGuard) -> None:
    """Minted once and kept in the scope: the refusal, the app and its log lines agree."""
    from keyguard.web import request_id

    scope: dict[str, Any] = {"type": "http", "headers": []}
    first = request_id(scope)
    assert first.startswith("req_")
    assert request_id(scope) == first == scope["state"]["request_id"]
    sent = {"type": "http", "headers": [(b"x-request-id", b"abc-123")]}
    assert request_id(sent) == "abc-123" == request_id(sent)

    seen: list[str] = []

    async def app(scope: Scope, receive: Receive, send: Send) -> None:
        seen.append(request_id(scope))
        await PlainTextResponse("ok")(scope, receive, send)

    middleware = APIKeyMiddleware(app, guard=guard, public_paths=["/open"])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=middleware), base_url="http://test"
    ) as client:
        await client.get("/open")
        refused = await client.get("/closed")
    assert refused.json()["meta"]["requestId"] == refused.headers["x-request-id"]
    assert len(seen) == 1 and seen[0].startswith("req_")


async def test_a_401_further_in_names_the_middlewares_realm(guard: KeyGuard) -> None:
    """A route that needs a key but was reached keyless (a public path, by mistake) answers
    401 in the realm of the middleware in front, not a hard-coded one."""
    from starlette.applications import Starlette

    from keyguard.web import management_routes

    inner = Starlette(routes=management_routes(guard))
    app = APIKeyMiddleware(inner, guard=guard, realm="shop", public_paths=["/v1/account/*"])
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        response = await client.get("/v1/account/api-keys")
    assert response.status_code == 401
    assert response.headers["www-authenticate"] == 'Bearer realm="shop"'


async def test_with_no_publishable_routes_pk_keys_are_refused_and_the_log_says_so(
    guard: KeyGuard, caplog: pytest.LogCaptureFixture
) -> None:
    """The library opens nothing to publishable keys by default, not even a demo's paths."""
    from keyguard.demo.storefront import STOREFRONT_PUBLISHABLE_ROUTES

    from .conftest import storefront

    app = APIKeyMiddleware(storefront(), guard=guard)
    assert any("pk_* keys are refused everywhere" in r.getMessage() for r in caplog.records)
    created = await guard.manager.create(
        account="a", name="p", environment="test", access="publishable"
    )
    async with httpx.AsyncClient(
        transport=httpx.ASGITransport(app=app), base_url="http://test"
    ) as client:
        for rule in STOREFRONT_PUBLISHABLE_ROUTES:
            path = rule.split(" ", 1)[1].replace("{id}", "1").replace("*", "info")
            response = await client.get(path, headers={"authorization": f"Bearer {created.value}"})
            assert response.status_code == 403, path
