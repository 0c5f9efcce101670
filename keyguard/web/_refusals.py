"""The middleware's refusals, built once per middleware: status, code, message, headers."""

from __future__ import annotations

import enum
from datetime import UTC, datetime
from typing import NamedTuple

from keyguard.core import ErrorCode, format_time, now_text

from ._envelope import (
    FORBIDDEN_MESSAGE,
    FROM_BROWSER_MESSAGE,
    INVALID_KEY_MESSAGE,
    KEY_IN_URL_MESSAGE,
    MISSING_KEY_MESSAGE,
    OVER_RATE_MESSAGE,
    QUOTA_SPENT_MESSAGE,
    RATE_LIMITED_MESSAGE,
    UNAVAILABLE_MESSAGE,
    UNCOUNTED_MESSAGE,
    UNLISTED_ROUTE_MESSAGE,
    WRONG_NETWORK_MESSAGE,
    WRONG_ORIGIN_MESSAGE,
    error_body,
    insufficient_scope,
    missing_permissions_message,
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
    UNLISTED_ROUTE = "unlisted_route"  # a restricted key where the route table lists nothing
    WRONG_ORIGIN = "wrong_origin"  # a valid key used from the wrong place: these three
    WRONG_NETWORK = "wrong_network"  # are not guesses, and never count as failed attempts
    FROM_BROWSER = "from_browser"
    RATE_LIMITED = "rate_limited"
    UNAVAILABLE = "unavailable"
    UNCOUNTED = "uncounted"  # a limited key whose use cannot be counted (fail closed)


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


# A valid key's 429, by whether its quota (True) or a rate limit (False) refused it.
_OVER_LIMIT = {
    spent: _Template(429, ErrorCode.RATE_LIMITED, message, ()).body_parts
    for spent, message in ((False, OVER_RATE_MESSAGE), (True, QUOTA_SPENT_MESSAGE))
}


# 503s: the key cannot be checked, or (a valid limited key) its use cannot be counted.
_UNAVAILABLE = {
    refusal: _Template(503, ErrorCode.SERVICE_UNAVAILABLE, message, ((b"retry-after", b"5"),))
    for refusal, message in (
        (Refusal.UNAVAILABLE, UNAVAILABLE_MESSAGE),
        (Refusal.UNCOUNTED, UNCOUNTED_MESSAGE),
    )
}


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
            Refusal.UNLISTED_ROUTE: _Template(
                403,
                ErrorCode.FORBIDDEN,
                UNLISTED_ROUTE_MESSAGE,
                ((b"www-authenticate", insufficient_scope(realm).encode()),),
            ),
            Refusal.WRONG_ORIGIN: _Template(403, ErrorCode.FORBIDDEN, WRONG_ORIGIN_MESSAGE, ()),
            Refusal.WRONG_NETWORK: _Template(403, ErrorCode.FORBIDDEN, WRONG_NETWORK_MESSAGE, ()),
            Refusal.FROM_BROWSER: _Template(403, ErrorCode.FORBIDDEN, FROM_BROWSER_MESSAGE, ()),
            Refusal.RATE_LIMITED: _Template(429, ErrorCode.RATE_LIMITED, RATE_LIMITED_MESSAGE, ()),
            **_UNAVAILABLE,
        }
        self._realm = realm
        self._bodies = {refusal: t.body_parts for refusal, t in self._templates.items()}
        self._over_limit = _OVER_LIMIT

    def make(self, refusal: Refusal, request_id: str, retry_after: float = 0.0) -> Rejection:
        t = self._templates[refusal]
        headers = t.headers
        if retry_after:
            headers = (*headers, (b"retry-after", b"%d" % max(1, int(retry_after))))
        head, middle, tail = self._bodies[refusal]
        body = b"".join((head, request_id.encode(), middle, now_text().encode(), tail))
        return Rejection(t.status, t.code, request_id, body, headers, refusal.value)

    def lacking(self, missing: tuple[str, ...], request_id: str) -> Rejection:
        """A 403 naming the permissions a key lacks, with RFC 6750's `insufficient_scope`
        challenge listing them. Built per refusal: what is missing varies, and refusals are
        not the hot path."""
        body = error_body(ErrorCode.FORBIDDEN, missing_permissions_message(missing), request_id)
        challenge = insufficient_scope(self._realm, missing).encode()
        headers = ((b"www-authenticate", challenge),)
        return Rejection(403, ErrorCode.FORBIDDEN, request_id, body, headers, "missing_permissions")

    def over_limit(self, quota_spent: bool, headers: list[Header], request_id: str) -> Rejection:
        """A 429 for a valid key over its rate limit or out of quota, with the RateLimit
        fields (and Retry-After, when waiting helps) the decision gave."""
        head, middle, tail = self._over_limit[quota_spent]
        body = b"".join((head, request_id.encode(), middle, now_text().encode(), tail))
        reason = "quota_spent" if quota_spent else "over_rate"
        return Rejection(429, ErrorCode.RATE_LIMITED, request_id, body, tuple(headers), reason)
