"""`metrics_app`: the metrics in Prometheus's exposition format, as a small ASGI app to mount
(`/metrics`) or to serve on a port of its own, behind a bearer token unless the operator says
it is public.

Metrics say how many keys are cached, which refusals happen and how often, and when Redis is
down: not secrets, but nothing to hand to strangers either. So a token is the default, checked
in constant time; `public=True` is for a port only the scraper can reach (127.0.0.1, a private
network), never for the app's public port.
"""

from __future__ import annotations

import hashlib
import hmac

from prometheus_client import CollectorRegistry
from prometheus_client.exposition import choose_encoder
from starlette.responses import Response
from starlette.types import ASGIApp, Receive, Scope, Send

from keyguard.core import ErrorCode
from keyguard.web import error_response, request_id
from keyguard.web._envelope import www_authenticate

from ._prometheus import PrometheusMetrics

__all__ = ["metrics_app"]

MIN_TOKEN_LENGTH = 16
REALM = "metrics"
_UNAUTHORIZED_MESSAGE = "The metrics need their token. Send it as: Authorization: Bearer <token>"
_METHOD_MESSAGE = "The metrics are read with GET."


def metrics_app(metrics: PrometheusMetrics, *, token: str | None, public: bool = False) -> ASGIApp:
    """An ASGI app serving `metrics` to whoever sends `Authorization: Bearer <token>` (401 in
    keyguard's envelope otherwise); `token=None` only with `public=True`, for a port that only
    the scraper can reach. Mounted behind `APIKeyMiddleware`, its path must be one of the
    middleware's `public_paths`: the token guards it, not an API key."""
    if token is None and not public:
        raise ValueError(
            "metrics_app needs a token (Authorization: Bearer <token>), or public=True for a"
            " port only the scraper can reach"
        )
    if token is not None and public:
        raise ValueError("metrics_app takes a token or public=True, not both")
    if token is not None and len(token) < MIN_TOKEN_LENGTH:
        raise ValueError(
            f"the metrics token must be at least {MIN_TOKEN_LENGTH} characters:"
            " secrets.token_urlsafe(32) makes a good one"
        )
    return _MetricsApp(metrics.registry, token)


class _MetricsApp:
    def __init__(self, registry: CollectorRegistry, token: str | None) -> None:
        self._registry = registry
        # Compared as digests: equal lengths, so the comparison's time tells nothing.
        self._token_digest = None if token is None else _digest(token.encode())

    def __repr__(self) -> str:  # never the token
        return f"metrics_app(public={self._token_digest is None})"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        kind = scope["type"]
        if kind == "lifespan":  # served as an app of its own: nothing to start
            await _lifespan(receive, send)
        elif kind == "http":
            await self._answer(scope)(scope, receive, send)
        else:  # a WebSocket: closed before it is accepted (the server answers 403)
            await send({"type": "websocket.close", "code": 1008})

    def _answer(self, scope: Scope) -> Response:
        sent = _bearer(scope)
        if self._token_digest is not None and not (
            sent is not None and hmac.compare_digest(_digest(sent), self._token_digest)
        ):
            challenge = www_authenticate(REALM, key_sent=sent is not None).decode()
            return error_response(
                ErrorCode.INVALID_API_KEY, _UNAUTHORIZED_MESSAGE, request_id(scope),
                status=401, headers={"www-authenticate": challenge},
            )  # fmt: skip
        if scope["method"] not in ("GET", "HEAD"):
            return error_response(
                ErrorCode.METHOD_NOT_ALLOWED, _METHOD_MESSAGE, request_id(scope),
                status=405, headers={"allow": "GET, HEAD"},
            )  # fmt: skip
        encode, content_type = choose_encoder(_header(scope, b"accept") or "")
        return Response(encode(self._registry), 200, {"cache-control": "no-store"}, content_type)


def _digest(value: bytes) -> bytes:
    return hashlib.sha256(value).digest()


def _header(scope: Scope, name: bytes) -> str | None:
    for key, value in scope["headers"]:
        if key == name:
            return value.decode("latin-1")  # type: ignore[no-any-return]
    return None


def _bearer(scope: Scope) -> bytes | None:
    """The credential of the one `Authorization: Bearer ...` header; None if there is none,
    several, or another scheme (b"" when a header was sent but holds no bearer token)."""
    values = [value for key, value in scope["headers"] if key == b"authorization"]
    if not values:
        return None
    scheme, _, credential = values[0].partition(b" ")
    if len(values) > 1 or scheme.lower() != b"bearer":
        return b""
    return credential.strip()  # type: ignore[no-any-return]


async def _lifespan(receive: Receive, send: Send) -> None:
    while True:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await send({"type": "lifespan.startup.complete"})
        elif message["type"] == "lifespan.shutdown":
            await send({"type": "lifespan.shutdown.complete"})
            return
