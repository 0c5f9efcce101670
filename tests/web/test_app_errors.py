"""`keyguard.web.install_error_handlers`: a Starlette app's own errors, and `@requires`
refusals, in the envelope the middleware answers in, not Starlette's plain text."""

from __future__ import annotations

from collections.abc import AsyncIterator
from typing import Any

import httpx
import pytest
from starlette.applications import Starlette
from starlette.authentication import requires
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route

from keyguard import KeyGuard, NotFoundError
from keyguard.web import APIKeyMiddleware, install_error_handlers

from .conftest import mint


@requires("secret")
async def secret_only(request: Request) -> JSONResponse:
    return JSONResponse({"ok": True})


async def not_yours(request: Request) -> JSONResponse:
    raise HTTPException(403, "That order belongs to another account.")


async def gone(request: Request) -> JSONResponse:
    raise HTTPException(410)


async def no_such_key(request: Request) -> JSONResponse:
    key_id = request.path_params["key_id"]  # as an app hands a path segment to the manager
    raise NotFoundError(f"no API key with id {key_id!r}")


async def crash(request: Request) -> JSONResponse:
    raise RuntimeError(request.headers["note"])  # what was sent, as a message may hold


@pytest.fixture
async def client(guard: KeyGuard) -> AsyncIterator[httpx.AsyncClient]:
    app = Starlette(
        routes=[
            Route("/secret", secret_only),
            Route("/orders/1", not_yours),
            Route("/gone", gone),
            Route("/keys/{key_id}", no_such_key),
            Route("/crash", crash),
            Route("/post-only", secret_only, methods=["POST"]),
        ]
    )
    install_error_handlers(app)
    asgi = APIKeyMiddleware(app, guard=guard, publishable_routes=["GET /*"], realm="shop")
    transport = httpx.ASGITransport(app=asgi, raise_app_exceptions=False)
    async with httpx.AsyncClient(transport=transport, base_url="http://test") as c:
        yield c


def error_of(response: httpx.Response, status: int, code: str) -> dict[str, Any]:
    assert response.status_code == status, response.text
    assert response.headers["content-type"] == "application/json"
    body = response.json()
    assert body["data"] is None and body["error"]["code"] == code
    assert body["meta"]["requestId"] == response.headers["x-request-id"]
    error: dict[str, Any] = body["error"]
    return error


async def test_requires_refuses_in_the_envelope_with_a_challenge(
    guard: KeyGuard, client: httpx.AsyncClient
) -> None:
    pk = await mint(guard, "publishable")
    refused = await client.get("/secret", headers={"Authorization": f"Bearer {pk}"})
    error = error_of(refused, 403, "FORBIDDEN")
    assert error["message"] == "This API key is not allowed to make this request."
    # `@requires` does not say what it wanted: no `scope=` is guessed.
    assert refused.headers["www-authenticate"] == 'Bearer realm="shop", error="insufficient_scope"'
    sk = await mint(guard, "secret")
    assert (await client.get("/secret", headers={"Authorization": f"Bearer {sk}"})).json() == {
        "ok": True
    }


async def test_the_apps_own_errors_are_in_the_envelope(
    guard: KeyGuard, client: httpx.AsyncClient
) -> None:
    headers = {"Authorization": f"Bearer {await mint(guard)}"}
    error_of(await client.get("/nowhere", headers=headers), 404, "NOT_FOUND")
    wrong_method = await client.get("/post-only", headers=headers)
    error_of(wrong_method, 405, "METHOD_NOT_ALLOWED")
    assert wrong_method.headers["allow"] == "POST"
    mine = await client.get("/orders/1", headers=headers)
    assert error_of(mine, 403, "FORBIDDEN")["message"] == "That order belongs to another account."
    assert "www-authenticate" not in mine.headers  # the app's reason, not the key's scopes
    error_of(await client.get("/gone", headers=headers), 410, "VALIDATION_ERROR")
    missing = error_of(await client.get("/keys/ECHOED", headers=headers), 404, "NOT_FOUND")
    assert "ECHOED" not in str(missing)  # nothing of the request comes back
    assert missing["message"] == "There is no such resource."


async def test_a_crash_is_500_with_the_request_id(
    guard: KeyGuard, client: httpx.AsyncClient, caplog: pytest.LogCaptureFixture
) -> None:
    headers = {
        "Authorization": f"Bearer {await mint(guard)}",
        "X-Request-ID": "boom-2",
        "Note": "hunter2",
    }
    response = await client.get("/crash", headers=headers)
    error_of(response, 500, "INTERNAL_ERROR")
    assert response.json()["meta"]["requestId"] == "boom-2"
    assert "hunter2" not in response.text
    assert any(
        "boom-2" in r.getMessage() and "RuntimeError" in r.getMessage() for r in caplog.records
    )
