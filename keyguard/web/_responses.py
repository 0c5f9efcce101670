"""Rejections as small ASGI apps: 401/403/429/503 in the envelope, over HTTP or WebSocket.

For a WebSocket, the rejection is an HTTP response where the server supports the ASGI
denial-response extension, else a close with code 1008 (policy violation) before the app ever
sees the connection.
"""

from __future__ import annotations

from typing import NamedTuple

from starlette.types import Receive, Scope, Send

from keyguard.core import ErrorCode

__all__ = ["POLICY_VIOLATION", "Rejection"]

POLICY_VIOLATION = 1008
_JSON = (b"content-type", b"application/json")
_NO_STORE = (b"cache-control", b"no-store")


class Rejection(NamedTuple):
    status: int
    code: ErrorCode
    request_id: str
    body: bytes  # the envelope, ready to send
    headers: tuple[tuple[bytes, bytes], ...] = ()
    reason: str = ""  # which refusal, finer than the code: "invalid", "over_rate", ...

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        body = self.body
        headers = [
            _JSON,
            _NO_STORE,
            (b"content-length", str(len(body)).encode()),
            (b"x-request-id", self.request_id.encode()),
            *self.headers,
        ]
        if scope["type"] == "http":
            await send({"type": "http.response.start", "status": self.status, "headers": headers})
            await send({"type": "http.response.body", "body": body})
        elif "websocket.http.response" in scope.get("extensions", {}):
            await receive()  # websocket.connect
            start = {"type": "websocket.http.response.start", "status": self.status}
            await send({**start, "headers": headers})
            await send({"type": "websocket.http.response.body", "body": body})
        else:
            await receive()
            await send({"type": "websocket.close", "code": POLICY_VIOLATION, "reason": self.code})
