"""The middleware's wrapper around an app's ASGI channel: the headers of a key in its roll's
grace period."""

from __future__ import annotations

from email.utils import format_datetime

from starlette.types import Message, Send

from keyguard.core import KeyRecord, id_time_ms

__all__ = ["with_sunset"]


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
