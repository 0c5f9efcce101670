"""The failure limiter port: failed attempts counted per client, to answer 429 before a
guesser reaches the store.

A lookup that will reach the store takes a slot first (`acquire`), so concurrent guesses from
one client cannot all get through before their failures are counted; a lookup that found a valid
key gives its slot back (`release`). Failures decided without the store (a malformed key, a
cached refusal) are counted with `record_failure`.
"""

from __future__ import annotations

from typing import NamedTuple, Protocol

__all__ = ["FailureLimiter", "Slot"]


class Slot(NamedTuple):
    """One counted attempt, until it is released: the client, the window it was counted in,
    and whether a shared counter (rather than this process's) holds it."""

    client: str
    window: int
    shared: bool = False


class FailureLimiter(Protocol):
    async def acquire(self, client: str) -> Slot | float:
        """A slot for one store lookup, counted as a failure until released; or, when the client
        is over its limit, the seconds until it may try again (nothing counted)."""

    async def release(self, slot: Slot) -> None:
        """The lookup did not fail (a valid key, or a store that could not answer): uncount it."""

    async def record_failure(self, client: str) -> float:
        """Count one failure; return the seconds to wait including it (0: may keep trying)."""
