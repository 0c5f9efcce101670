"""The HTTP surface: 404/405 and 401/403 in the envelope, request ids, raw ASGI, mounting."""

from __future__ import annotations

import json
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Mount, Route
from starlette.types import Message

from keyguard import KeyGuard, StoreUnavailableError
from keyguard.web import APIKeyMiddleware, ManagementAPI, management_routes

from .conftest import BASE, KEYS, Caller, envelope, make_caller, state

NEW = {"name": "CI runner", "environment": "test", "access": "secret"}
KEY_ID = "key_01HX0000000000000000000000"


@pytest.mark.parametrize(
    "path", [f"{BASE}/", f"{BASE}/nope", f"{KEYS}/", f"{KEYS}/{KEY_ID}/roll/x", f"{BASE}/a/b/c"]
)
async def test_an_unknown_route_under_the_prefix_is_404_in_the_envelope(
    admin: Caller, path: str
) -> None:
    for method in ("GET", "POST", "DELETE"):
        error = envelope(await admin.request(method, path), 404, "NOT_FOUND")
        assert error["message"] == "There is no such route."


@pytest.mark.parametrize(
    ("method", "path", "allow"),
    [
        ("PUT", KEYS, "GET, HEAD, POST"),
        ("DELETE", KEYS, "GET, HEAD, POST"),
        ("POST", f"{KEYS}/{KEY_ID}", "DELETE, GET, HEAD, PATCH"),
        ("PUT", f"{KEYS}/{KEY_ID}", "DELETE, GET, HEAD, PATCH"),
        ("GET", f"{KEYS}/{KEY_ID}/roll", "POST"),
        ("POST", f"{BASE}/audit-log", "GET, HEAD"),
        ("OPTIONS", f"{BASE}/audit-log", "GET, HEAD"),
        ("BREW", KEYS, "GET, HEAD, POST"),
    ],
)
async def test_an_unknown_method_is_405_in_the_envelope(
    guard: KeyGuard, admin: Caller, method: str, path: str, allow: str
) -> None:
    before = await state(guard, admin.record.account)
    response = await admin.request(method, path, json=NEW)
    error = envelope(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == allow
    assert method not in error["message"]  # nothing of the request is echoed back
    assert await state(guard, admin.record.account) == before


async def test_the_request_id_is_echoed_when_sane_and_minted_otherwise(admin: Caller) -> None:
    sane = await admin.get(KEYS, headers={"x-request-id": "trace-42:a.b"})
    assert sane.headers["x-request-id"] == "trace-42:a.b"
    for bad in ("has spaces", "x" * 200, "semi;colon"):
        response = await admin.get(f"{KEYS}?limit=0", headers={"x-request-id": bad})
        envelope(response, 400, "VALIDATION_ERROR")
        assert response.headers["x-request-id"].startswith("req_")
    first = await admin.get(f"{BASE}/nope")
    second = await admin.get(f"{BASE}/nope")
    assert first.headers["x-request-id"] != second.headers["x-request-id"]


async def test_no_key_is_401_before_anything_else(client: httpx.AsyncClient) -> None:
    response = await client.post(KEYS, json=NEW)
    envelope(response, 401, "INVALID_API_KEY")
    assert response.headers["www-authenticate"] == 'Bearer realm="api"'


async def test_a_publishable_key_is_refused_by_the_default_policy(
    guard: KeyGuard, client: httpx.AsyncClient, account: str
) -> None:
    pk = await make_caller(guard, client, account, access="publishable")
    before = await state(guard, account)
    envelope(await pk.get(KEYS), 403, "FORBIDDEN")
    envelope(await pk.post(KEYS, json=NEW), 403, "FORBIDDEN")
    assert await state(guard, account) == before


async def test_the_routes_refuse_a_publishable_key_behind_any_policy(
    guard: KeyGuard, account: str
) -> None:
    lax = APIKeyMiddleware(
        Starlette(routes=management_routes(guard)),
        guard=guard,
        publishable_routes=["GET /v1/account/*", "POST /v1/account/*", "DELETE /v1/account/*"],
    )
    async with _client(lax) as client:
        pk = await make_caller(guard, client, account, access="publishable")
        before = await state(guard, account)
        envelope(await pk.get(KEYS), 403, "FORBIDDEN")
        envelope(await pk.post(KEYS, json=NEW), 403, "FORBIDDEN")
        envelope(await pk.delete(f"{KEYS}/{pk.id}"), 403, "FORBIDDEN")
        assert await state(guard, account) == before


async def test_without_the_middleware_the_routes_run_for_no_one(
    guard: KeyGuard, account: str
) -> None:
    bare = Starlette(routes=management_routes(guard))
    async with _client(bare) as client:
        sk = await make_caller(guard, client, account)
        response = await sk.post(KEYS, json=NEW)  # the key is never looked at
        envelope(response, 401, "INVALID_API_KEY")
        assert response.headers["www-authenticate"].startswith("Bearer")
    assert len((await state(guard, account))[0]) == 1


async def test_a_lying_content_length_is_still_counted(app: Any, admin: Caller) -> None:
    body = json.dumps({**NEW, "metadata": {"x": "y" * 70_000}}).encode()
    messages: list[Message] = [
        {"type": "http.request", "body": body[i : i + 8192], "more_body": True}
        for i in range(0, len(body), 8192)
    ]
    messages.append({"type": "http.request", "body": b"", "more_body": False})
    headers = [
        (b"authorization", f"Bearer {admin.value}".encode()),
        (b"content-length", b"100"),
        (b"content-type", b"application/json"),
    ]
    status, sent = await _asgi(app, "POST", KEYS, headers, messages)
    assert status == 413
    assert json.loads(sent)["error"]["code"] == "PAYLOAD_TOO_LARGE"


async def test_management_api_mounts_below_a_path(guard: KeyGuard, account: str) -> None:
    outer = Starlette(routes=[Mount(BASE, app=ManagementAPI(guard, prefix=""))])
    async with _client(APIKeyMiddleware(outer, guard=guard)) as client:
        admin = await make_caller(guard, client, account)
        response = await admin.post(KEYS, json=NEW)
        key = envelope(response, 201)
        assert response.headers["location"] == f"{KEYS}/{key['id']}"
        assert len(envelope(await admin.get(KEYS), 200)) == 2
        envelope(await admin.get(f"{BASE}/elsewhere"), 404, "NOT_FOUND")
        doc = (await admin.get(f"{BASE}/openapi.json")).json()
        assert doc["servers"] == [{"url": BASE}]
        assert "/api-keys" in doc["paths"]


async def test_management_api_serves_alone(guard: KeyGuard, account: str) -> None:
    async with _client(APIKeyMiddleware(ManagementAPI(guard), guard=guard)) as client:
        admin = await make_caller(guard, client, account)
        envelope(await admin.get(KEYS), 200)
        envelope(await admin.get("/somewhere/else"), 404, "NOT_FOUND")


async def test_the_routes_join_a_fastapi_app(guard: KeyGuard, account: str) -> None:
    api = FastAPI()

    @api.get("/hello")
    async def hello() -> dict[str, str]:
        return {"hello": "world"}

    api.router.routes.extend(management_routes(guard))
    async with _client(APIKeyMiddleware(api, guard=guard)) as client:
        admin = await make_caller(guard, client, account)
        envelope(await admin.post(KEYS, json=NEW), 201)
        assert len(envelope(await admin.get(KEYS), 200)) == 2
        assert (await admin.get("/hello")).json() == {"hello": "world"}
        envelope(await admin.request("PUT", KEYS), 405, "METHOD_NOT_ALLOWED")


async def test_own_routes_under_the_prefix_go_first(guard: KeyGuard, account: str) -> None:
    async def profile(request: Request) -> JSONResponse:
        return JSONResponse({"profile": True})

    routes = [Route(f"{BASE}/profile", profile), *management_routes(guard)]
    async with _client(APIKeyMiddleware(Starlette(routes=routes), guard=guard)) as client:
        admin = await make_caller(guard, client, account)
        assert (await admin.get(f"{BASE}/profile")).json() == {"profile": True}


async def test_a_fault_is_a_500_in_the_envelope_and_quotes_nothing(
    guard: KeyGuard, admin: Caller, monkeypatch: pytest.MonkeyPatch, caplog: Any
) -> None:
    async def broken(*args: Any, **kwargs: Any) -> Any:
        raise RuntimeError(f"boom near {admin.value}")

    monkeypatch.setattr(guard.manager, "list", broken)
    response = await admin.get(KEYS)
    error = envelope(response, 500, "INTERNAL_ERROR")
    assert admin.value not in response.text and "boom" not in error["message"]
    logged = [r for r in caplog.records if r.name == "keyguard.web.management.resource"]
    assert [r.levelname for r in logged] == ["ERROR"]
    assert "RuntimeError" in logged[0].getMessage()  # the type; never the message


async def test_a_store_outage_is_a_503_with_retry_after(
    guard: KeyGuard, admin: Caller, monkeypatch: pytest.MonkeyPatch
) -> None:
    async def down(*args: Any, **kwargs: Any) -> Any:
        raise StoreUnavailableError("PostgreSQL failed: ConnectionResetError")

    monkeypatch.setattr(guard.manager, "create", down)
    response = await admin.post(KEYS, json=NEW)
    error = envelope(response, 503, "SERVICE_UNAVAILABLE")
    assert response.headers["retry-after"] == "5"
    assert "PostgreSQL" not in error["message"]


def test_a_prefix_must_be_a_path(guard: KeyGuard) -> None:
    with pytest.raises(ValueError, match="must start with"):
        management_routes(guard, prefix="v1/account")
    paths = [getattr(r, "path", "") for r in management_routes(guard, prefix="/admin/")]
    assert "/admin/api-keys" in paths and "/admin/{path:path}" in paths


def _client(app: Any) -> httpx.AsyncClient:
    return httpx.AsyncClient(transport=httpx.ASGITransport(app=app), base_url="http://test")


async def _asgi(
    app: Any, method: str, path: str, headers: list[tuple[bytes, bytes]], body: list[Message]
) -> tuple[int, bytes]:
    """One request straight through ASGI: the body arrives exactly as `body` says."""
    incoming = iter(body)
    sent: list[Message] = []

    async def receive() -> Message:
        return next(incoming, {"type": "http.disconnect"})

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "root_path": "",
        "query_string": b"",
        "headers": headers,
        "client": ("127.0.0.1", 1234),
        "server": ("test", 80),
    }
    await app(scope, receive, send)
    start = next(m for m in sent if m["type"] == "http.response.start")
    content = b"".join(m.get("body", b"") for m in sent if m["type"] == "http.response.body")
    return start["status"], content
