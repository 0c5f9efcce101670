"""The middleware's wrappers around an app's ASGI channels: the guard started and stopped
with the app's lifespan, and the headers of a key in its roll's grace period."""

from __future__ import annotations

from email.utils import format_datetime

from starlette.types import ASGIApp, Message, Receive, Scope, Send

from keyguard._guard import KeyGuard
from keyguard.core import KeyRecord, id_time_ms

__all__ = ["run_lifespan", "with_sunset"]


async def run_lifespan(
    app: ASGIApp, guard: KeyGuard, scope: Scope, receive: Receive, send: Send
) -> None:
    """Start the guard with the app and stop it (flushing last-used times) after it."""

    async def receive_starting_guard() -> Message:
        message = await receive()
        if message["type"] == "lifespan.startup":
            await guard.start()
        return message

    async def send_stopping_guard(message: Message) -> None:
        if message["type"] == "lifespan.shutdown.complete":
            await guard.stop()
        await send(message)

    await app(scope, receive_starting_guard, send_stopping_guard)


def with_sunset(send: Send, record: KeyRecord) -> Send:
    """A key in a roll's grace period: tell the client it is deprecated and when it ends."""
    assert record.expires_at is not None  # a rolled key always expires
    assert record.replaced_by is not None
    extra = [  # deprecated since its successor was minted (RFC 9745), gone at expiry (RFC 8594)
        (b"deprecation", b"@%d" % (id_time_ms(record.replaced_by) // 1000)),
        (b"sunset", format_datetime(record.expires_at, usegmt=True).encode()),
    ]

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *extra]}
        await send(message)

    return send_with_headers
