"""The storefront's plumbing: bounded JSON bodies, and every error as keyguard's envelope.

Handlers raise (`NotFoundError`, `ValidationError`, Starlette's `HTTPException`); the handlers
here turn each into the envelope, so no route answers in another shape, not even a 404 from the
router or a 405 for a wrong method.
"""

from __future__ import annotations

import json
import logging
from http import HTTPStatus

from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import Response

from keyguard.core import ErrorCode, KeyguardError, ValidationError
from keyguard.web import error_response, request_id
from keyguard.web._errors import CODE_FOR_STATUS, keyguard_error_response

__all__ = ["MAX_BODY", "on_http_error", "on_keyguard_error", "on_server_error", "read_json"]

logger = logging.getLogger(__name__)
MAX_BODY = 16 * 1024


async def read_json(request: Request) -> object:
    """The request's JSON body; 413 past `MAX_BODY` bytes (read no further), 400 if not JSON."""
    body = bytearray()
    async for chunk in request.stream():
        body += chunk
        if len(body) > MAX_BODY:
            raise HTTPException(413, f"The body must be at most {MAX_BODY} bytes.")
    try:
        return json.loads(body)
    except ValueError:  # not JSON, or not UTF-8
        raise ValidationError.single("body", "must be JSON") from None


async def on_keyguard_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, KeyguardError)
    return keyguard_error_response(exc, request_id(request.scope))


async def on_http_error(request: Request, exc: Exception) -> Response:
    assert isinstance(exc, HTTPException)
    code = CODE_FOR_STATUS.get(exc.status_code, ErrorCode.INTERNAL_ERROR)
    message = exc.detail or HTTPStatus(exc.status_code).phrase
    rid = request_id(request.scope)
    return error_response(code, message, rid, status=exc.status_code, headers=exc.headers)


async def on_server_error(request: Request, exc: Exception) -> Response:
    # Starlette re-raises the exception after this answers, so the server logs the traceback.
    rid = request_id(request.scope)
    return error_response(ErrorCode.INTERNAL_ERROR, "Internal server error.", rid, status=500)
