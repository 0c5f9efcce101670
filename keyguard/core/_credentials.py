"""Finding the API key in a request's headers: the first thing the middleware does on every request.

Pure and total: whatever bytes arrive, the answer is a token string or a `CredentialProblem`,
never an exception, so garbage costs a 401 and no I/O. Headers are the ASGI scope's list of
`(name, value)` byte pairs, names already lowercased as the ASGI spec requires.

Accepted: `Authorization: Bearer <key>` (scheme in any case, one or more spaces), the raw
`Authorization: <key>`, and, only when asked for, `X-API-Key: <key>` (the raw key, no scheme).
Refused: more than one credential header, an empty or over-long value, anything outside printable
ASCII, another scheme, a token with a space in it.
"""

from __future__ import annotations

import enum
import re
from collections.abc import Iterable

__all__ = [
    "MAX_CREDENTIAL_LENGTH",
    "CredentialProblem",
    "candidate_key",
    "extract_key",
    "sane_request_id",
]

MAX_CREDENTIAL_LENGTH = 512  # bytes of one header value; a key is 46, so this is generous
_AUTHORIZATION = b"authorization"
_ONLY_AUTHORIZATION = frozenset({_AUTHORIZATION})
_EITHER_HEADER = frozenset({_AUTHORIZATION, b"x-api-key"})
_REQUEST_ID = re.compile(rb"[A-Za-z0-9._:-]{1,128}")
# {access}_{environment}_ and a run of the random part: any key, whole or cut, valid or not.
_KEY_SHAPED = re.compile(rb"[sp]k_[a-z]+_[0-9A-Za-z]{16}")
_BEARER = b"Bearer "


class CredentialProblem(enum.Enum):
    """Why no key could be read. Each is a 401 with no lookup; the middleware picks the message."""

    MISSING = "missing"
    DUPLICATE = "duplicate"
    EMPTY = "empty"
    MALFORMED = "malformed"
    TOO_LONG = "too_long"
    UNSUPPORTED_SCHEME = "unsupported_scheme"


def extract_key(
    headers: Iterable[tuple[bytes, bytes]], *, accept_x_api_key: bool = False
) -> str | CredentialProblem:
    """The key sent with a request, or why there is none. Never raises.

    The whole list is read even after a match: two credentials are refused rather than choosing
    one, because a proxy in front may have chosen the other.
    """
    wanted = _EITHER_HEADER if accept_x_api_key else _ONLY_AUTHORIZATION
    found_name: bytes | None = None
    found_value: bytes | None = None
    for name, value in headers:
        if name in wanted:
            if found_value is not None:
                return CredentialProblem.DUPLICATE
            found_name, found_value = name, value
    if found_value is None:
        return CredentialProblem.MISSING
    return _read_value(found_value, raw_only=found_name != _AUTHORIZATION)


def _read_value(value: bytes, *, raw_only: bool) -> str | CredentialProblem:
    if len(value) > MAX_CREDENTIAL_LENGTH:
        return CredentialProblem.TOO_LONG
    # Decoding the (bounded) value up front and checking it as a str is faster than the bytes
    # equivalents: isprintable() is a single C loop, and for ASCII it is exactly 0x20-0x7E.
    if not value.isascii():
        return CredentialProblem.MALFORMED
    text = value.decode("ascii")
    if not text.isprintable():
        return CredentialProblem.MALFORMED
    text = text.strip(" ")
    if not text:
        return CredentialProblem.EMPTY
    if raw_only:
        return CredentialProblem.MALFORMED if " " in text else text
    return _read_authorization(text)


def _read_authorization(text: str) -> str | CredentialProblem:
    """`text` is non-empty printable ASCII with no surrounding spaces."""
    scheme, space, rest = text.partition(" ")
    if not space:
        # A lone "Bearer" is a client that sent the scheme and forgot the key, not a raw key.
        return CredentialProblem.EMPTY if scheme.lower() == "bearer" else text
    if scheme.lower() != "bearer":
        return CredentialProblem.UNSUPPORTED_SCHEME
    token = rest.lstrip(" ")
    return CredentialProblem.MALFORMED if " " in token else token


def candidate_key(headers: Iterable[tuple[bytes, bytes]]) -> bytes | None:
    """The unvalidated bytes of the one Authorization header, without a `Bearer ` prefix.

    Only for looking up a digest among known keys, where a match proves the bytes are a key
    in the form `extract_key` would have returned. Anything else (no header, two headers, a
    miss) must go through `extract_key`.
    """
    found = None
    for name, value in headers:
        if name == _AUTHORIZATION:
            if found is not None:
                return None
            found = value
    if found is None:
        return None
    return found[7:] if found.startswith(_BEARER) else found


def sane_request_id(value: bytes | None) -> str | None:
    """An incoming X-Request-ID worth echoing (1-128 of `A-Za-z0-9._:-`), else None.

    Anything else is dropped rather than cleaned up: it ends up in logs and response headers.
    So is an id holding anything shaped like a key (`sk_live_...`, checksum or not): a client
    that sends its key there would see it echoed, logged and kept in the audit log.
    """
    if value is None or _REQUEST_ID.fullmatch(value) is None or _KEY_SHAPED.search(value):
        return None
    return value.decode("ascii")
