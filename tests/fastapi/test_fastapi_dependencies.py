"""`api_key` and `require`: they hand routes the key the middleware verified, or refuse in the
envelope."""

from __future__ import annotations

import re
from typing import Any

import httpx
import pytest

from keyguard import KeyGuard
from keyguard.fastapi import require

from ._support import MakeClient, bearer, mint

TIMESTAMP = re.compile(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d(\.\d+)?Z")


def envelope_error(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    """The error of a response that is exactly the documented envelope."""
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    assert response.headers["cache-control"] == "no-store"
    body = response.json()
    assert set(body) == {"data", "error", "meta"}
    assert body["data"] is None
    assert set(body["error"]) == {"code", "message"}
    assert body["error"]["code"] == code
    assert set(body["meta"]) == {"requestId", "timestamp"}
    assert body["meta"]["requestId"] == response.headers["x-request-id"]
    assert TIMESTAMP.fullmatch(body["meta"]["timestamp"])
    error: dict[str, Any] = body["error"]
    return error


async def test_api_key_returns_the_record_the_middleware_attached(
    guard: KeyGuard, client: httpx.AsyncClient
) -> None:
    for access in ("secret", "publishable"):
        key = await mint(guard, access, "test")
        response = await client.get("/me", headers=bearer(key))
        assert response.status_code == 200
        me = response.json()
        assert (me["id"], me["access"], me["environment"]) == (key.record.id, access, "test")
        assert key.value not in response.text


async def test_the_raw_authorization_form_works_too(
    guard: KeyGuard, client: httpx.AsyncClient
) -> None:
    # FastAPI's HTTPBearer would reject this; keyguard's scheme reads the middleware's result.
    key = await mint(guard, "secret", "live")
    response = await client.get("/me", headers={"Authorization": key.value})
    assert response.json()["id"] == key.record.id


async def test_api_key_on_a_route_the_middleware_left_public_is_401(
    guard: KeyGuard, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    missing = await client.get("/public")
    error = envelope_error(missing, 401, "INVALID_API_KEY")
    assert "No API key" in error["message"]
    assert missing.headers["www-authenticate"] == 'Bearer realm="api"'
    key = await mint(guard, "secret", "test")
    sent = await client.get("/public", headers=bearer(key))
    envelope_error(sent, 401, "INVALID_API_KEY")
    assert sent.headers["www-authenticate"] == 'Bearer realm="api", error="invalid_token"'
    assert any("route /public needs an API key" in r.getMessage() for r in caplog.records)


async def test_without_the_middleware_nothing_gets_through(
    guard: KeyGuard, client_for: MakeClient
) -> None:
    key = await mint(guard, "secret", "live")
    async with client_for(middleware=False) as client:
        for path in ("/me", "/any-key"):
            envelope_error(await client.get(path, headers=bearer(key)), 401, "INVALID_API_KEY")
        envelope_error(
            await client.post("/secret-only", headers=bearer(key)), 401, "INVALID_API_KEY"
        )


async def test_require_secret_refuses_a_publishable_key(
    guard: KeyGuard, client: httpx.AsyncClient
) -> None:
    pk, sk = await mint(guard, "publishable", "live"), await mint(guard, "secret", "test")
    refused = await client.post("/secret-only", headers={**bearer(pk), "X-Request-ID": "abc-1"})
    error = envelope_error(refused, 403, "FORBIDDEN")
    assert error["message"] == "This API key is not allowed to make this request."
    assert refused.json()["meta"]["requestId"] == "abc-1"
    allowed = await client.post("/secret-only", headers=bearer(sk))
    assert (allowed.status_code, allowed.json()) == (200, {"id": sk.record.id})


async def test_require_live_refuses_a_test_key(guard: KeyGuard, client: httpx.AsyncClient) -> None:
    for access in ("secret", "publishable"):
        test_key, live_key = await mint(guard, access, "test"), await mint(guard, access, "live")
        envelope_error(await client.get("/live-only", headers=bearer(test_key)), 403, "FORBIDDEN")
        allowed = await client.get("/live-only", headers=bearer(live_key))
        assert allowed.json() == {"id": live_key.record.id}


async def test_require_publishable_admits_any_key(
    guard: KeyGuard, client: httpx.AsyncClient
) -> None:
    for access in ("secret", "publishable"):
        key = await mint(guard, access, "test")
        assert (await client.get("/any-key", headers=bearer(key))).json() == {"id": key.record.id}


async def test_the_middleware_still_answers_first(client: httpx.AsyncClient) -> None:
    envelope_error(await client.post("/secret-only"), 401, "INVALID_API_KEY")
    bad = {"Authorization": "Bearer sk_test_" + "A" * 38}
    envelope_error(await client.get("/me", headers=bad), 401, "INVALID_API_KEY")


async def test_the_optional_scheme_gives_none_when_no_key_was_attached(
    guard: KeyGuard, client: httpx.AsyncClient
) -> None:
    assert (await client.get("/optional")).json() == {"key": None}
    key = await mint(guard, "secret", "test")  # the path is public: the middleware checks nothing
    assert (await client.get("/optional", headers=bearer(key))).json() == {"key": None}


async def test_without_the_handlers_the_statuses_hold(
    guard: KeyGuard, client_for: MakeClient
) -> None:
    pk = await mint(guard, "publishable", "test")
    async with client_for(handlers=False) as client:
        refused = await client.post("/secret-only", headers=bearer(pk))
        assert refused.status_code == 403
        assert refused.json() == {"detail": "This API key is not allowed to make this request."}
        assert (await client.get("/public")).status_code == 401


def test_require_checks_its_arguments() -> None:
    with pytest.raises(ValueError, match="'root'"):
        require(access="root")
    with pytest.raises(ValueError, match="lowercase"):
        require(environment="Live")
