"""A circuit breaker for the shared cache: after a few failures in a row, stop asking for a
while, so a dead Redis costs each request nothing instead of a timeout."""

from __future__ import annotations

import logging
import time
from collections.abc import Callable

__all__ = ["CircuitBreaker"]

logger = logging.getLogger(__name__)


class CircuitBreaker:
    def __init__(
        self,
        name: str,
        *,
        failure_threshold: int = 3,
        reset_after: float = 2.0,
        clock: Callable[[], float] = time.monotonic,
    ) -> None:
        self.name = name
        self.failure_threshold = failure_threshold
        self.reset_after = reset_after
        self._clock = clock
        self._failures = 0
        self._open_until = 0.0

    @property
    def is_open(self) -> bool:
        return self._failures >= self.failure_threshold and self._clock() < self._open_until

    def allows(self) -> bool:
        """Closed, or open long enough that one more try (half-open) is due."""
        return not self.is_open

    def success(self) -> None:
        if self._failures >= self.failure_threshold:
            logger.info("%s answers again: closing the circuit", self.name)
        self._failures = 0

    def failure(self) -> None:
        self._failures += 1
        if self._failures >= self.failure_threshold:
            if self._failures == self.failure_threshold:
                logger.warning(
                    "%s failed %d times in a row: not asking it for %.1f s",
                    self.name,
                    self._failures,
                    self.reset_after,
                )
            self._open_until = self._clock() + self.reset_after
