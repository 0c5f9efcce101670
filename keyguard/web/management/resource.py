"""The plumbing under each management route: method dispatch, who the caller is, and turning
every outcome (including failures) into the envelope.

Each path is one ASGI app that receives every method, so that an unsupported method is a 405 in
the envelope rather than Starlette's plain-text answer, wherever the routes are mounted.
"""

from __future__ import annotations

import logging
import traceback
from collections.abc import Awaitable, Callable, Mapping
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.types import Receive, Scope, Send

from keyguard.core import Access, ErrorCode, KeyguardError, KeyRecord

from .._envelope import (
    FORBIDDEN_MESSAGE,
    MISSING_KEY_MESSAGE,
    insufficient_scope,
    realm_of,
    www_authenticate,
)
from .._errors import keyguard_error_response
from .._json import error_response, request_id
from .body import MAX_BODY_BYTES, BodyTooLarge, NotJSON
from .context import Call, RouteContext
from .grants import InsufficientScope, check_need

__all__ = ["Endpoint", "Handler", "NotFound", "Resource", "secret_only"]

logger = logging.getLogger(__name__)
Endpoint = Callable[[Request, str], Awaitable[Response]]  # (request, request id)
Handler = Callable[[Call], Awaitable[Response]]
_INTERNAL_MESSAGE = "Something went wrong on our side. Try again, or quote the request id."


class Resource:
    """One path: its endpoints by method, each answered in the envelope whatever happens."""

    def __init__(self, path: str, endpoints: Mapping[str, Endpoint]) -> None:
        self.path = path  # the template, for logs: a concrete path may hold anything
        self.endpoints = dict(endpoints)
        methods = {*endpoints, "HEAD"} if "GET" in endpoints else set(endpoints)
        self.allow = ", ".join(sorted(methods))

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        request = Request(scope, receive)
        rid = request_id(scope)
        method = "GET" if request.method == "HEAD" else request.method
        endpoint = self.endpoints.get(method)
        if endpoint is None:
            response = self._not_allowed(rid)
        else:
            response = await self._answer(endpoint, request, rid)
        await response(scope, receive, send)

    def _not_allowed(self, rid: str) -> Response:
        # Not the method sent: nothing of the request's is echoed back (a method is any token).
        message = f"This method is not allowed here; allowed: {self.allow}"
        headers = {"allow": self.allow}
        return error_response(
            ErrorCode.METHOD_NOT_ALLOWED, message, rid, status=405, headers=headers
        )

    async def _answer(self, endpoint: Endpoint, request: Request, rid: str) -> Response:
        try:
            return await endpoint(request, rid)
        except BodyTooLarge:
            message = f"The request body is over {MAX_BODY_BYTES // 1024} KiB."
            return error_response(ErrorCode.PAYLOAD_TOO_LARGE, message, rid, status=413)
        except NotJSON:
            message = "Send the body as JSON, with Content-Type: application/json."
            code = ErrorCode.UNSUPPORTED_MEDIA_TYPE
            return error_response(code, message, rid, status=415)
        except InsufficientScope as exc:
            return _lacking(exc, request, rid)
        except KeyguardError as exc:
            return keyguard_error_response(exc, rid)
        except Exception as exc:
            # Only the type and the code path: a message may quote a value that was sent.
            trace = "".join(traceback.format_tb(exc.__traceback__))
            logger.error(
                "%s %s failed: %s\n%s", request.method, self.path, type(exc).__name__, trace
            )
            return error_response(ErrorCode.INTERNAL_ERROR, _INTERNAL_MESSAGE, rid, status=500)


def _lacking(exc: InsufficientScope, request: Request, rid: str) -> Response:
    """A restricted key lacks a permission: 403, and the challenge names it (RFC 6750 3.1)."""
    challenge = insufficient_scope(realm_of(request.scope), exc.scopes)
    headers = {"www-authenticate": challenge}
    return error_response(ErrorCode.FORBIDDEN, exc.message, rid, status=403, headers=headers)


class NotFound:
    """Whatever is under the prefix but not a route: a 404 in the envelope, any method."""

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        message = "There is no such route."
        response = error_response(ErrorCode.NOT_FOUND, message, request_id(scope), status=404)
        await response(scope, receive, send)


def secret_only(context: RouteContext, handler: Handler, need: str) -> Endpoint:
    """Only a secret key may manage keys. The middleware's policy already refuses publishable
    keys here by default; this holds even where the routes sit behind another policy. A
    restricted one also needs the permission `need` (`grants`)."""

    async def endpoint(request: Request, rid: str) -> Response:
        caller = _caller(request.scope)
        if caller is None:  # mounted with no middleware in front: never run keyless
            challenge = www_authenticate(realm_of(request.scope), key_sent=False).decode()
            headers = {"www-authenticate": challenge}
            code = ErrorCode.INVALID_API_KEY
            return error_response(code, MISSING_KEY_MESSAGE, rid, status=401, headers=headers)
        if caller.access is not Access.SECRET:
            return error_response(ErrorCode.FORBIDDEN, FORBIDDEN_MESSAGE, rid, status=403)
        check_need(caller, need)
        return await handler(Call(request, rid, caller, context))

    return endpoint


def _caller(scope: Scope) -> KeyRecord | None:
    state: Any = scope.get("state") or {}
    caller = state.get("api_key")
    return caller if isinstance(caller, KeyRecord) else None
