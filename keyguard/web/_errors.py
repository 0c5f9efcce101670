"""keyguard's errors as HTTP: the status each error code answers with, and the one function
every web edge (the management API, the demo, FastAPI handlers) uses to turn an error into the
envelope.

Unavailability is said, not explained: how the store failed is for the log, not the client.
"""

from __future__ import annotations

from collections.abc import Mapping
from types import MappingProxyType

from starlette.responses import Response

from keyguard.core import ErrorCode, KeyguardError, UnavailableError, ValidationError

from ._envelope import UNAVAILABLE_MESSAGE
from ._json import error_response

__all__ = ["CODE_FOR_STATUS", "STATUS_FOR_CODE", "keyguard_error_response"]

STATUS_FOR_CODE: Mapping[ErrorCode, int] = MappingProxyType(
    {
        ErrorCode.VALIDATION_ERROR: 400,
        ErrorCode.INVALID_API_KEY: 401,
        ErrorCode.INVALID_SIGNATURE: 403,  # 401 would need a WWW-Authenticate scheme
        ErrorCode.FORBIDDEN: 403,
        ErrorCode.NOT_FOUND: 404,
        ErrorCode.METHOD_NOT_ALLOWED: 405,
        ErrorCode.CONFLICT: 409,
        ErrorCode.PAYLOAD_TOO_LARGE: 413,
        ErrorCode.UNSUPPORTED_MEDIA_TYPE: 415,
        ErrorCode.RATE_LIMITED: 429,
        ErrorCode.INTERNAL_ERROR: 500,
        ErrorCode.SERVICE_UNAVAILABLE: 503,
    }
)
CODE_FOR_STATUS: Mapping[int, ErrorCode] = MappingProxyType(
    # A 403 from an app behind the middleware is about its API key, not a signature.
    {s: c for c, s in STATUS_FOR_CODE.items() if c is not ErrorCode.INVALID_SIGNATURE}
)
RETRY_AFTER_SECONDS = 5


def keyguard_error_response(exc: KeyguardError, request_id: str) -> Response:
    """`exc` in the envelope, with its status (and `Retry-After` when it is unavailability)."""
    if isinstance(exc, UnavailableError):
        headers = {"retry-after": str(RETRY_AFTER_SECONDS)}
        return error_response(
            exc.code, UNAVAILABLE_MESSAGE, request_id, status=503, headers=headers
        )
    details = None
    if isinstance(exc, ValidationError):
        details = [{"field": i.field, "message": i.message} for i in exc.issues]
    status = STATUS_FOR_CODE[exc.code]
    return error_response(exc.code, exc.message, request_id, status=status, details=details)
