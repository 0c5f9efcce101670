"""The middleware's wrappers around an app's ASGI channel: headers it adds to the app's answer
(a key in its roll's grace period, a limited key's RateLimit fields)."""

from __future__ import annotations

from email.utils import format_datetime

from starlette.types import Message, Send

from keyguard.core import KeyRecord, id_time_ms

__all__ = ["with_headers", "with_sunset"]


def with_sunset(send: Send, record: KeyRecord) -> Send:
    """A key in a roll's grace period: tell the client it is deprecated and when it ends."""
    assert record.expires_at is not None  # a rolled key always expires
    assert record.replaced_by is not None
    return with_headers(
        send,
        [  # deprecated since its successor was minted (RFC 9745), gone at expiry (RFC 8594)
            (b"deprecation", b"@%d" % (id_time_ms(record.replaced_by) // 1000)),
            (b"sunset", format_datetime(record.expires_at, usegmt=True).encode()),
        ],
    )


def with_headers(send: Send, extra: list[tuple[bytes, bytes]]) -> Send:
    """`send` adding `extra` to the response's headers."""

    async def send_with_headers(message: Message) -> None:
        if message["type"] == "http.response.start":
            message = {**message, "headers": [*message.get("headers", ()), *extra]}
        await send(message)

    return send_with_headers
