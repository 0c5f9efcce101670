"""The one JSON envelope every response uses, success or error, and the 401 challenge header.

    {"data": ..., "error": null | {"code", "message", ["details"]},
     "meta": {"requestId", "timestamp", ...}}

as compact UTF-8 JSON. The messages live here so that every edge says the same thing: one message
for any key that is not valid, so a caller cannot tell a typo from a revoked or unknown key.
"""

from __future__ import annotations

import functools
import json
from collections.abc import Mapping, Sequence
from datetime import datetime
from typing import Any

from keyguard.core import ErrorCode, format_time, utcnow

__all__ = [
    "DEFAULT_REALM",
    "FORBIDDEN_MESSAGE",
    "FROM_BROWSER_MESSAGE",
    "INVALID_KEY_MESSAGE",
    "KEY_IN_URL_MESSAGE",
    "MISSING_KEY_MESSAGE",
    "OVER_RATE_MESSAGE",
    "QUOTA_SPENT_MESSAGE",
    "RATE_LIMITED_MESSAGE",
    "REALM_KEY",
    "UNAVAILABLE_MESSAGE",
    "UNCOUNTED_MESSAGE",
    "UNLISTED_ROUTE_MESSAGE",
    "WRONG_NETWORK_MESSAGE",
    "WRONG_ORIGIN_MESSAGE",
    "error_body",
    "insufficient_scope",
    "missing_permissions_message",
    "realm_of",
    "success_body",
    "www_authenticate",
]

INVALID_KEY_MESSAGE = "The API key is invalid, revoked or expired."
MISSING_KEY_MESSAGE = "No API key was sent. Send one as: Authorization: Bearer <key>"
KEY_IN_URL_MESSAGE = (
    "API keys must never be sent in a URL: logs and browser histories keep URLs. Revoke this"
    " key, and send its successor as: Authorization: Bearer <key>"
)
FORBIDDEN_MESSAGE = "This API key is not allowed to make this request."
RATE_LIMITED_MESSAGE = "Too many failed attempts. Try again later."
UNLISTED_ROUTE_MESSAGE = (
    "This API key is restricted, and this route is not open to restricted keys: it needs an"
    " unrestricted key."
)
WRONG_ORIGIN_MESSAGE = (
    "This API key may not be used from this website: its origin is not one of the key's"
    " allowed origins (or the request named no origin)."
)
WRONG_NETWORK_MESSAGE = (
    "This API key may not be used from this network address: it is outside the key's"
    " allowed networks."
)
FROM_BROWSER_MESSAGE = (
    "Secret API keys must stay on servers, and this request came from a web browser. Use a"
    " publishable key in browsers, and keep the secret key on your server."
)
UNAVAILABLE_MESSAGE = "API keys cannot be checked right now. Try again shortly."
UNCOUNTED_MESSAGE = (
    "This API key's use cannot be counted against its limits right now (the key itself is"
    " valid). Try again shortly."
)
OVER_RATE_MESSAGE = (
    "This API key is over its rate limit. Retry after the number of seconds in Retry-After;"
    " the RateLimit and RateLimit-Policy headers say how much is left and how fast it returns."
)
QUOTA_SPENT_MESSAGE = (
    "This API key's usage quota is spent (its rate limit is not the cause). The quota refills"
    " at the time the RateLimit header's t parameter gives, if it refills at all; otherwise"
    " ask the key's owner for more."
)

_RESERVED_META = frozenset({"requestId", "timestamp"})
DEFAULT_REALM = "api"
REALM_KEY = "keyguard.realm"  # scope key: the realm of the middleware a request passed


def error_body(
    code: ErrorCode,
    message: str,
    request_id: str,
    *,
    details: Sequence[Mapping[str, Any]] | None = None,
    at: datetime | None = None,
) -> bytes:
    """An error response body. `details` (e.g. the fields a validation error names) is optional."""
    error: dict[str, Any] = {"code": code.value, "message": message}
    if details is not None:
        error["details"] = [dict(d) for d in details]
    return _dump({"data": None, "error": error, "meta": _meta(request_id, at, None)})


def success_body(
    data: Any,
    request_id: str,
    *,
    meta: Mapping[str, Any] | None = None,
    at: datetime | None = None,
) -> bytes:
    """A success response body; `meta` adds keys (e.g. a next cursor) after the standard two."""
    return _dump({"data": data, "error": None, "meta": _meta(request_id, at, meta)})


def _meta(request_id: str, at: datetime | None, extra: Mapping[str, Any] | None) -> dict[str, Any]:
    meta = {"requestId": request_id, "timestamp": format_time(utcnow() if at is None else at)}
    if extra:
        if not _RESERVED_META.isdisjoint(extra):
            raise ValueError("meta must not set requestId or timestamp: the envelope sets them")
        meta.update(extra)
    return meta


def _dump(body: dict[str, Any]) -> bytes:
    try:
        return json.dumps(body, separators=(",", ":"), ensure_ascii=False, allow_nan=False).encode()
    except UnicodeEncodeError:
        # A lone surrogate (possible in JSON that came in) has no UTF-8 form; \u-escapes do.
        return json.dumps(body, separators=(",", ":"), allow_nan=False).encode()


def realm_of(scope: Mapping[str, Any]) -> str:
    """The realm for a 401 or 403 an app answers: that of the middleware the request passed
    (it records it on every request it lets through), else the default."""
    return scope.get(REALM_KEY, DEFAULT_REALM)  # type: ignore[no-any-return]


def www_authenticate(realm: str, *, key_sent: bool) -> bytes:
    """The `WWW-Authenticate` value of a 401: `Bearer realm="api"`, plus `error="invalid_token"`
    when a key was sent (RFC 6750 asks for no error code when the request had none).

    Raises ValueError for a realm with a character outside printable ASCII.
    """
    return _challenge(realm, key_sent)


def insufficient_scope(realm: str, scopes: Sequence[str] = ()) -> str:
    """The `WWW-Authenticate` value of a 403 for a key that lacks what the route needs (RFC 6750
    section 3.1): `Bearer realm="api", error="insufficient_scope"`, plus `scope="secret env:live"`
    when the scopes it needs are known (named as in `scopes_for`)."""
    value = f'{_quoted_realm(realm)}, error="insufficient_scope"'
    return f'{value}, scope="{" ".join(scopes)}"' if scopes else value


def missing_permissions_message(missing: Sequence[str]) -> str:
    """A 403's message naming what the key lacks (the app's names, never the client's)."""
    if len(missing) == 1:
        return f"This API key lacks the permission {missing[0]}, which this request needs."
    return f"This API key lacks the permissions {', '.join(missing)}, which this request needs."


@functools.lru_cache(maxsize=64)  # a server uses one or two realms: build each header once
def _challenge(realm: str, key_sent: bool) -> bytes:
    value = _quoted_realm(realm)
    if key_sent:
        value += ', error="invalid_token"'
    return value.encode("ascii")


def _quoted_realm(realm: str) -> str:
    if not (realm.isascii() and realm.isprintable()):
        raise ValueError(f"the realm must be printable ASCII, got {realm!r}")
    quoted = realm.replace("\\", "\\\\").replace('"', '\\"')
    return f'Bearer realm="{quoted}"'
