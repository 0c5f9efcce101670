"""Exception handlers that put an app's own errors in keyguard's envelope: the router's 404 and
405, any `HTTPException`, `@requires` refusals, keyguard's errors, and a crash (500).

With them, a client of an app behind the middleware sees one error shape, not the envelope for
keyguard's refusals beside Starlette's plain text for everything else.
"""

from __future__ import annotations

import logging
import traceback
from http import HTTPStatus
from types import TracebackType

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from keyguard.core import ErrorCode, KeyguardError, NotFoundError

from ._envelope import (
    FORBIDDEN_MESSAGE,
    MISSING_KEY_MESSAGE,
    insufficient_scope,
    realm_of,
    www_authenticate,
)
from ._errors import CODE_FOR_STATUS, keyguard_error_response
from ._json import error_response, request_id

__all__ = ["install_error_handlers", "on_http_error", "on_keyguard_error", "on_server_error"]

logger = logging.getLogger(__name__)
INTERNAL_MESSAGE = "Something went wrong on our side. Try again, or quote the request id."
NOT_FOUND_MESSAGE = "There is no such resource."
_MESSAGES = {
    ErrorCode.INVALID_API_KEY: MISSING_KEY_MESSAGE,
    ErrorCode.FORBIDDEN: FORBIDDEN_MESSAGE,
    ErrorCode.NOT_FOUND: "There is no such route.",
    ErrorCode.METHOD_NOT_ALLOWED: "This method is not allowed here.",
}
_NO_BODY = frozenset({204, 304})


def install_error_handlers(app: Starlette) -> None:
    """Answer every error of `app` in the envelope; call it before the app serves. For a
    FastAPI app, `keyguard.fastapi.install_error_handlers` does this and more."""
    app.add_exception_handler(HTTPException, on_http_error)
    app.add_exception_handler(KeyguardError, on_keyguard_error)
    app.add_exception_handler(Exception, on_server_error)


async def on_http_error(request: Request, exc: Exception) -> Response:
    """An `HTTPException` in the envelope, its headers kept (a 405's `Allow`). A detail the app
    wrote is the message; Starlette's bare status phrase is replaced by our words."""
    assert isinstance(exc, HTTPException)
    status, headers = exc.status_code, dict(exc.headers or {})
    if status in _NO_BODY:
        return Response(status_code=status, headers=headers)
    code = _code_for(status)
    message = _message(exc, code)
    if code is ErrorCode.METHOD_NOT_ALLOWED and "allow" in {h.lower() for h in headers}:
        message = f"This method is not allowed here; allowed: {_allowed(headers)}"
    scope = request.scope
    if status == 401 and not _has(headers, "www-authenticate"):
        key_sent = "authorization" in request.headers
        headers["WWW-Authenticate"] = www_authenticate(realm_of(scope), key_sent=key_sent).decode()
    elif status == 403 and _raised_by_requires(exc.__traceback__):
        # `@requires` does not say which scopes it wanted: a challenge without `scope=`.
        headers["WWW-Authenticate"] = insufficient_scope(realm_of(scope))
    return error_response(code, message, request_id(scope), status=status, headers=headers)


async def on_keyguard_error(request: Request, exc: Exception) -> Response:
    """A `KeyguardError` (say, `NotFoundError` from the key manager) with its status. A
    not-found says so in fixed words: the manager's message names the id asked for, which
    came from the request (a path segment, say), and nothing of the request is echoed."""
    assert isinstance(exc, KeyguardError)
    rid = request_id(request.scope)
    if isinstance(exc, NotFoundError):
        return error_response(ErrorCode.NOT_FOUND, NOT_FOUND_MESSAGE, rid, status=404)
    return keyguard_error_response(exc, rid)


async def on_server_error(request: Request, exc: Exception) -> Response:
    """A crash: 500 `INTERNAL_ERROR` with the request id. Starlette re-raises the exception
    afterwards, so the server logs it too."""
    rid = request_id(request.scope)
    # The type and the code path only: its message may quote a value that was sent.
    trace = "".join(traceback.format_tb(exc.__traceback__))
    logger.error("request %s failed: %s\n%s", rid, type(exc).__name__, trace)
    return error_response(ErrorCode.INTERNAL_ERROR, INTERNAL_MESSAGE, rid, status=500)


def _code_for(status: int) -> ErrorCode:
    code = CODE_FOR_STATUS.get(status)
    if code is not None:
        return code
    # No code of ours says "418" or "410": the status does; the code says whose side it is.
    return ErrorCode.VALIDATION_ERROR if status < 500 else ErrorCode.INTERNAL_ERROR


def _message(exc: HTTPException, code: ErrorCode) -> str:
    try:
        phrase = HTTPStatus(exc.status_code).phrase
    except ValueError:
        phrase = ""
    if isinstance(exc.detail, str) and exc.detail and exc.detail != phrase:
        return exc.detail
    if code is ErrorCode.INTERNAL_ERROR:
        return INTERNAL_MESSAGE
    return _MESSAGES.get(code) or f"{phrase or 'The request failed'}."


def _has(headers: dict[str, str], name: str) -> bool:
    return any(h.lower() == name for h in headers)


def _allowed(headers: dict[str, str]) -> str:
    return next(v for h, v in headers.items() if h.lower() == "allow")


def _raised_by_requires(tb: TracebackType | None) -> bool:
    """Whether Starlette's `@requires` raised it: only then is a 403 about the key's scopes,
    not the app's own reason (an order of another account, say)."""
    if tb is None:
        return False
    while tb.tb_next is not None:
        tb = tb.tb_next
    return tb.tb_frame.f_globals.get("__name__") == "starlette.authentication"
