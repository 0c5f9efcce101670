"""One WebSocket handshake driven through an ASGI app as a server would drive it."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from starlette.types import ASGIApp, Message

__all__ = ["websocket_handshake"]


async def websocket_handshake(
    app: ASGIApp,
    headers: list[tuple[bytes, bytes]],
    extensions: Mapping[str, Any] | None = None,
) -> list[Message]:
    """What the app sent back for a connect on `/v1/socket` (then a disconnect)."""
    incoming: list[Message] = [
        {"type": "websocket.connect"},
        {"type": "websocket.disconnect", "code": 1000},
    ]
    sent: list[Message] = []

    async def receive() -> Message:
        return incoming.pop(0) if incoming else {"type": "websocket.disconnect", "code": 1000}

    async def send(message: Message) -> None:
        sent.append(message)

    scope = {
        "type": "websocket",
        "asgi": {"version": "3.0"},
        "path": "/v1/socket",
        "raw_path": b"/v1/socket",
        "query_string": b"",
        "headers": headers,
        "scheme": "ws",
        "server": ("test", 80),
        "client": ("127.0.0.1", 5000),
        "subprotocols": [],
        "extensions": dict(extensions or {}),
    }
    await app(scope, receive, send)
    return sent
