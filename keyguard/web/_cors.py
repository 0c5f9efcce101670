"""CORS for publishable keys, so that an app whose browser clients call its publishable routes
need not configure CORS a second time: the middleware answers their preflight requests and
lets a browser read what a publishable key fetched.

A preflight carries no key (browsers never send credentials with one), so it is answered for
any origin on a publishable route; the request that follows is checked against its key's
allowed origins, and refused there. No credentials mode: keys are bearer tokens, not cookies.
"""

from __future__ import annotations

from starlette.types import Message, Scope, Send

from keyguard.core import Access, AccessPolicy

__all__ = ["PREFLIGHT_MAX_AGE", "answer_preflight", "preflight_origin", "with_cors"]

PREFLIGHT_MAX_AGE = 600  # seconds a browser may reuse an answer (Chromium caps it at 7200)
_ALLOWED_HEADERS = b"authorization, content-type, x-request-id"
_EXPOSED = (
    b"access-control-expose-headers",
    b"x-request-id, retry-after, deprecation, sunset, ratelimit, ratelimit-policy",
)
_VARY = (b"vary", b"Origin")


def preflight_origin(scope: Scope) -> tuple[bytes, bytes] | None:
    """A CORS preflight's origin and requested method; None for any other request."""
    origin = method = None
    for name, value in scope["headers"]:
        if name == b"origin":
            origin = value
        elif name == b"access-control-request-method":
            method = value
    if origin is None or method is None:
        return None
    return origin, method


async def answer_preflight(
    scope: Scope,
    send: Send,
    policy: AccessPolicy,
    origin: bytes,
    method: bytes,
    *,
    x_api_key: bool = False,
) -> bool:
    """Answer a preflight for a publishable route; False (nothing sent) for any other route."""
    asked = method.decode("latin-1")
    if not (asked.isascii() and asked.isalpha()):
        return False
    if not policy.allows(Access.PUBLISHABLE, asked.upper(), scope["path"]):
        return False
    headers = [
        (b"access-control-allow-origin", origin),
        (b"access-control-allow-methods", asked.upper().encode()),
        (
            b"access-control-allow-headers",
            _ALLOWED_HEADERS + (b", x-api-key" if x_api_key else b""),
        ),
        (b"access-control-max-age", b"%d" % PREFLIGHT_MAX_AGE),
        (b"vary", b"Origin, Access-Control-Request-Method, Access-Control-Request-Headers"),
        (b"content-length", b"0"),
    ]
    await send({"type": "http.response.start", "status": 204, "headers": headers})
    await send({"type": "http.response.body", "body": b""})
    return True


def with_cors(send: Send, origin: bytes | None) -> Send:
    """Let the page at `origin` read the response, unless the app already answered CORS; the
    answer varies by `Origin` either way, which shared caches must know."""
    if origin is None or origin == b"null":  # a sandboxed page or a file: not a site to name
        extra = [_VARY]
    else:
        extra = [(b"access-control-allow-origin", origin), _EXPOSED, _VARY]

    async def send_with_cors(message: Message) -> None:
        if message["type"] == "http.response.start":
            headers = list(message.get("headers", ()))
            if not any(name.lower() == b"access-control-allow-origin" for name, _ in headers):
                message = {**message, "headers": [*headers, *extra]}
        await send(message)

    return send_with_cors
