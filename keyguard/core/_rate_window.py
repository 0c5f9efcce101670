"""The arithmetic of a sliding window approximated from two fixed windows (the previous one
weighted by how much of it still overlaps), as most rate limiters do: O(1) memory per client."""

from __future__ import annotations

import math

__all__ = ["seconds_to_wait"]


def seconds_to_wait(previous: int, current: int, *, limit: int, window: float, now: float) -> float:
    """0 while the sliding count of failures is under `limit`, else until the window turns."""
    elapsed = (now % window) / window
    if previous * (1.0 - elapsed) + current < limit:
        return 0.0
    return max(1.0, math.ceil(window - now % window))
