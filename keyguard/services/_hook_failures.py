"""An observer hook that raises is reported and ignored: observing keyguard must never change
what it answers (a 500, a key left in the cache after a revoke, a background writer dead).
Logged once per hook name per process, with the traceback: a broken hook raises on every
request, and one line says all there is to say."""

from __future__ import annotations

import logging

__all__ = ["hook_failed"]

logger = logging.getLogger(__name__)
_told: set[str] = set()


def hook_failed(hook: str) -> None:
    """Call from an `except Exception:` block around an observer hook."""
    if hook not in _told:
        _told.add(hook)
        logger.exception(
            "the observer's %s hook raised; ignored (keyguard answers as if unobserved),"
            " and not logged again",
            hook,
        )
