"""What the middleware reads of a request besides its key: the client's address (what failed
attempts are counted against and allowed networks checked against), its claim on that
client's failure budget, and its `Origin` header."""

from __future__ import annotations

from collections.abc import Iterable

from starlette.types import Scope

from keyguard.ports import FailureLimiter, Slot

__all__ = ["Attempt", "client_address", "request_origin_header"]


def client_address(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else "unknown"


class Attempt:
    """One request's claim on its client's failure budget, taken only if the store must be
    asked: a client over its limit is refused lookups, not keys a cache vouches for."""

    __slots__ = ("client", "limiter", "retry_after", "slot")

    def __init__(self, limiter: FailureLimiter, client: str) -> None:
        self.limiter = limiter
        self.client = client
        self.slot: Slot | None = None
        self.retry_after = 0.0

    async def admit(self) -> bool:
        got = await self.limiter.acquire(self.client)
        if isinstance(got, Slot):
            self.slot = got
            return True
        self.retry_after = got
        return False


def request_origin_header(scope: Scope) -> bytes | None:
    headers: Iterable[tuple[bytes, bytes]] = scope["headers"]
    for name, value in headers:
        if name == b"origin":
            return value
    return None
