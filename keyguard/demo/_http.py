"""The storefront's bounded JSON bodies. Its routes raise (`NotFoundError`, `ValidationError`,
Starlette's `HTTPException`) and `keyguard.web.install_error_handlers` answers each in the
envelope, as it would for any app."""

from __future__ import annotations

import json
import logging

from starlette.exceptions import HTTPException
from starlette.requests import Request

from keyguard.core import ValidationError

__all__ = ["MAX_BODY", "read_json"]

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
