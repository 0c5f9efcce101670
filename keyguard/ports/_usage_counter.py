"""Where a key's usage is counted: Redis (shared by every process) or this process."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Protocol

from keyguard.core import Quota, RateLimit, UsageDecision

__all__ = ["UsageCounter"]


class UsageCounter(Protocol):
    async def decide(
        self,
        key_id: str,
        limits: Sequence[RateLimit],
        quota: Quota | None,
        cost: int = 1,
        *,
        now_ms: int | None = None,
    ) -> UsageDecision:
        """One request against the key's rate limits and quota, counted if admitted; `quota`
        is the key's setting: its count restarts when its `set_at_ms` is later than the kept
        one's; an earlier one (a process still holding the old setting) spends the newer count.
        Raises `CacheUnavailableError` when the counter cannot be reached."""
        ...

    async def forget(self, key_id: str) -> None:
        """Drop everything counted for the key (it was revoked or deleted)."""
        ...
