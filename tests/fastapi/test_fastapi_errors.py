"""`install_error_handlers`: the app's own errors (404, 405, validation, HTTPException, a crash)
and `require` refusals in the same envelope as the middleware's, not FastAPI's `{"detail"}`."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest

from keyguard import APIKeyMiddleware, CreatedKey, KeyGuard

from ._support import PUBLIC, PUBLISHABLE, bearer, build_app, mint
from .test_fastapi_dependencies import envelope_error


@pytest.fixture
async def client(guard: KeyGuard) -> AsyncIterator[httpx.AsyncClient]:
    app = build_app()
    app.add_middleware(
        APIKeyMiddleware, guard=guard, public_paths=PUBLIC, publishable_routes=PUBLISHABLE
    )
    # The crash must come back as the client sees it, not raised into the test.
    transport = httpx.ASGITransport(app=app, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


@pytest.fixture
async def secret(guard: KeyGuard) -> CreatedKey:
    return await mint(guard, "secret", "test")


async def test_an_unknown_route_is_not_found(client: httpx.AsyncClient, secret: CreatedKey) -> None:
    error = envelope_error(await client.get("/nowhere", headers=bearer(secret)), 404, "NOT_FOUND")
    assert error["message"] == "There is no such route."


async def test_a_wrong_method_keeps_its_allow_header(
    client: httpx.AsyncClient, secret: CreatedKey
) -> None:
    response = await client.delete("/me", headers=bearer(secret))
    error = envelope_error(response, 405, "METHOD_NOT_ALLOWED")
    assert response.headers["allow"] == "GET"
    assert error["message"] == "This method is not allowed here; allowed: GET"


def _details(response: httpx.Response) -> dict[str, str]:
    assert response.status_code == 400, response.text
    body = response.json()
    assert body["data"] is None and body["error"]["code"] == "VALIDATION_ERROR"
    assert body["meta"]["requestId"] == response.headers["x-request-id"]
    return {d["field"]: d["message"] for d in body["error"]["details"]}


async def test_invalid_input_is_400_naming_each_field_by_where_it_was(
    client: httpx.AsyncClient, secret: CreatedKey
) -> None:
    sent: dict[str, Any] = {"name": 7, "price": "cheap", "stock": {"sk_live_x": "many"}}
    response = await client.post(
        "/items?limit=lots", json={**sent, "evil<script>": 1}, headers=bearer(secret)
    )
    assert _details(response) == {
        "query.limit": "must be a whole number",
        "body.name": "must be a string",
        "body.price": "must be a number",
        "body.stock": "must be a whole number",  # the dict's key is the client's: not named
        "body": "holds a field this operation does not take",
    }
    for echoed in ("lots", "cheap", "sk_live_x", "many", "evil", "Input should"):
        assert echoed not in response.text


async def test_a_body_that_is_missing_or_not_json_is_400(
    client: httpx.AsyncClient, secret: CreatedKey
) -> None:
    assert _details(await client.post("/items", headers=bearer(secret))) == {"body": "is required"}
    broken = {**bearer(secret), "content-type": "application/json"}
    not_json = await client.post("/items", content=b'{"name": sk_', headers=broken)
    assert _details(not_json) == {"body": "must be valid JSON"}
    assert "sk_" not in not_json.text


async def test_an_http_exception_of_the_app_keeps_its_status_and_words(
    client: httpx.AsyncClient, secret: CreatedKey
) -> None:
    error = envelope_error(
        await client.get("/items/taken", headers=bearer(secret)), 409, "CONFLICT"
    )
    assert error["message"] == "That item is taken."


async def test_a_crash_is_500_with_the_request_id_and_logged(
    client: httpx.AsyncClient, secret: CreatedKey, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {**bearer(secret), "X-Request-ID": "crash-1", "Note": "hunter2"}
    response = await client.get("/crash", headers=headers)
    error = envelope_error(response, 500, "INTERNAL_ERROR")
    assert "request id" in error["message"]
    assert response.json()["meta"]["requestId"] == "crash-1"
    assert "hunter2" not in response.text
    logged = [r.getMessage() for r in caplog.records if r.name == "keyguard.web._app_errors"]
    assert any("crash-1" in m and "RuntimeError" in m for m in logged)
    assert not any("hunter2" in m for m in logged)


async def test_require_names_the_scopes_it_needs_in_its_challenge(
    guard: KeyGuard, client: httpx.AsyncClient
) -> None:
    pk, test_key = await mint(guard, "publishable", "live"), await mint(guard, "secret", "test")
    refused = await client.post("/secret-only", headers=bearer(pk))
    envelope_error(refused, 403, "FORBIDDEN")
    assert refused.headers["www-authenticate"] == (
        'Bearer realm="api", error="insufficient_scope", scope="secret"'
    )
    wrong_env = await client.get("/live-only", headers=bearer(test_key))
    envelope_error(wrong_env, 403, "FORBIDDEN")
    assert wrong_env.headers["www-authenticate"].endswith('scope="env:live"')
