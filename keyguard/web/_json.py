"""Envelope responses for apps and helpers behind the middleware, and the request id they carry.

The middleware's own refusals are raw ASGI (see `_responses`); these are Starlette `Response`s,
for handlers and exception handlers, in the same envelope with the same headers.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from typing import Any

from starlette.responses import Response
from starlette.types import Scope

from keyguard.core import ErrorCode, new_id, sane_request_id

from ._envelope import error_body, success_body

__all__ = ["error_response", "request_id", "success_response"]

_JSON = "application/json"


def request_id(scope: Scope) -> str:
    """The request's id: its incoming `X-Request-ID` when that is sane, else a `req_...` id
    minted on first asking. Either way it is kept in the scope (and `request.state.request_id`),
    so the middleware's refusal, the app's response and every log line of one request agree.
    Nobody pays for an id nobody asks for: a request served from the cache mints none."""
    state = scope.get("state")
    if state is None:
        scope["state"] = state = {}
    found = state.get("request_id")
    if found is None:
        found = state["request_id"] = _incoming(scope) or new_id("req_")
    return found


def _incoming(scope: Scope) -> str | None:
    for name, value in scope["headers"]:
        if name == b"x-request-id":  # the first one only
            return sane_request_id(value)
    return None


def success_response(
    data: Any,
    request_id: str,
    *,
    status: int = 200,
    meta: Mapping[str, Any] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    body = success_body(data, request_id, meta=meta)
    return Response(body, status, {**(headers or {}), "x-request-id": request_id}, _JSON)


def error_response(
    code: ErrorCode,
    message: str,
    request_id: str,
    *,
    status: int,
    details: Sequence[Mapping[str, Any]] | None = None,
    headers: Mapping[str, str] | None = None,
) -> Response:
    """An error in the envelope; never cached, like the middleware's refusals."""
    body = error_body(code, message, request_id, details=details)
    extra = {"cache-control": "no-store", "x-request-id": request_id}
    return Response(body, status, {**(headers or {}), **extra}, _JSON)
