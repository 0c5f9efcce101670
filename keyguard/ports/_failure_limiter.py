"""The failure limiter port: failed attempts counted per client, to answer 429 before a
guesser reaches the store."""

from __future__ import annotations

from typing import Protocol

__all__ = ["FailureLimiter"]


class FailureLimiter(Protocol):
    async def retry_after(self, client: str) -> float:
        """0 if `client` may keep trying, else seconds until it may."""

    async def record_failure(self, client: str) -> float:
        """Count one failure; return `retry_after` including it."""
