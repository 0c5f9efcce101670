"""The middleware's refusals, built once per middleware: status, code, message, headers."""

from __future__ import annotations

import enum
from typing import NamedTuple

from keyguard.core import (
    FORBIDDEN_MESSAGE,
    INVALID_KEY_MESSAGE,
    MISSING_KEY_MESSAGE,
    RATE_LIMITED_MESSAGE,
    UNAVAILABLE_MESSAGE,
    ErrorCode,
    www_authenticate,
)

from ._responses import Rejection

__all__ = ["Refusal", "Refusals"]

Header = tuple[bytes, bytes]


class Refusal(enum.Enum):
    MISSING = "missing"  # no key: a 401 that may say so
    INVALID = "invalid"  # malformed, unknown, revoked, expired: one generic 401
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"


class _Template(NamedTuple):
    status: int
    code: ErrorCode
    message: str
    headers: tuple[Header, ...]


class Refusals:
    def __init__(self, realm: str) -> None:
        self._templates = {
            Refusal.MISSING: _Template(
                401,
                ErrorCode.INVALID_API_KEY,
                MISSING_KEY_MESSAGE,
                ((b"www-authenticate", www_authenticate(realm, key_sent=False)),),
            ),
            Refusal.INVALID: _Template(
                401,
                ErrorCode.INVALID_API_KEY,
                INVALID_KEY_MESSAGE,
                ((b"www-authenticate", www_authenticate(realm, key_sent=True)),),
            ),
            Refusal.FORBIDDEN: _Template(403, ErrorCode.FORBIDDEN, FORBIDDEN_MESSAGE, ()),
            Refusal.RATE_LIMITED: _Template(429, ErrorCode.RATE_LIMITED, RATE_LIMITED_MESSAGE, ()),
            Refusal.UNAVAILABLE: _Template(
                503, ErrorCode.SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE, ((b"retry-after", b"5"),)
            ),
        }

    def make(self, refusal: Refusal, request_id: str, retry_after: float = 0.0) -> Rejection:
        t = self._templates[refusal]
        headers = t.headers
        if retry_after:
            headers = (*headers, (b"retry-after", b"%d" % max(1, int(retry_after))))
        return Rejection(t.status, t.code, t.message, request_id, headers)
