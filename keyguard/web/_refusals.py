"""The middleware's refusals, built once per middleware: status, code, message, headers."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import NamedTuple

from keyguard.core import ErrorCode, format_time, now_text

from ._envelope import (
    FORBIDDEN_MESSAGE,
    INVALID_KEY_MESSAGE,
    KEY_IN_URL_MESSAGE,
    MISSING_KEY_MESSAGE,
    RATE_LIMITED_MESSAGE,
    UNAVAILABLE_MESSAGE,
    error_body,
    www_authenticate,
)
from ._responses import Rejection

__all__ = ["Refusal", "Refusals"]

Header = tuple[bytes, bytes]
_EPOCH = datetime(2000, 1, 1, tzinfo=UTC)


class Refusal(enum.Enum):
    MISSING = "missing"  # no key: a 401 that may say so
    INVALID = "invalid"  # malformed, unknown, revoked, expired: one generic 401
    KEY_IN_URL = "key_in_url"  # a key in the query string: refused unread, and told why
    FORBIDDEN = "forbidden"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"


class _Template(NamedTuple):
    status: int
    code: ErrorCode
    message: str
    headers: tuple[Header, ...]

    @property
    def body_parts(self) -> tuple[bytes, bytes, bytes]:
        """The envelope around its request id and timestamp, which are all that vary.
        Both are made of `[A-Za-z0-9._:-]` and digits: they need no JSON escaping."""
        marker = error_body(self.code, self.message, "@@request-id@@", at=_EPOCH)
        head, _, rest = marker.partition(b"@@request-id@@")
        middle, _, tail = rest.partition(format_time(_EPOCH).encode())
        return head, middle, tail


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
            Refusal.KEY_IN_URL: _Template(
                401,
                ErrorCode.INVALID_API_KEY,
                KEY_IN_URL_MESSAGE,
                ((b"www-authenticate", www_authenticate(realm, key_sent=True)),),
            ),
            Refusal.FORBIDDEN: _Template(403, ErrorCode.FORBIDDEN, FORBIDDEN_MESSAGE, ()),
            Refusal.RATE_LIMITED: _Template(429, ErrorCode.RATE_LIMITED, RATE_LIMITED_MESSAGE, ()),
            Refusal.UNAVAILABLE: _Template(
                503, ErrorCode.SERVICE_UNAVAILABLE, UNAVAILABLE_MESSAGE, ((b"retry-after", b"5"),)
            ),
        }
        self._bodies = {refusal: t.body_parts for refusal, t in self._templates.items()}

    def make(self, refusal: Refusal, request_id: str, retry_after: float = 0.0) -> Rejection:
        t = self._templates[refusal]
        headers = t.headers
        if retry_after:
            headers = (*headers, (b"retry-after", b"%d" % max(1, int(retry_after))))
        head, middle, tail = self._bodies[refusal]
        body = b"".join((head, request_id.encode(), middle, now_text().encode(), tail))
        return Rejection(t.status, t.code, request_id, body, headers)
