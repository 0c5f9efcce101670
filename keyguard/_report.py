"""What a guard uses and whether it answers: the line it logs at start-up, and its health.

The start-up line names the store (its URL masked; a SQLite file by its absolute path, since a
relative one depends on the folder a process started in), Redis or none, the pepper by its
fingerprint (never the pepper), the environments and the number of valid keys. Valid keys
stored under a pepper this process does not have are counted and warned about: they would be
refused, each with a 401 that says nothing about why.
"""

from __future__ import annotations

import logging
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from keyguard.adapters import mask_url
from keyguard.core import utcnow

if TYPE_CHECKING:
    from ._guard import KeyGuard

__all__ = ["Health", "check_health", "describe_store", "log_start", "unknown_peppers"]

logger = logging.getLogger(__name__)


def describe_store(url: str) -> str:
    """The store as a person can find it: a SQLite file by its absolute path."""
    parts = urlsplit(url)
    if parts.scheme != "sqlite":
        return mask_url(url)
    path = parts.path[1:] if parts.path.startswith("/") else parts.path
    if not path or path == ":memory:":
        return "memory (SQLite; gone when the process stops)"
    return f"sqlite:///{Path(path).resolve()}"


def unknown_peppers(by_version: Mapping[str, int], known: set[str]) -> dict[str, int]:
    return {version: n for version, n in by_version.items() if version not in known}


async def log_start(guard: KeyGuard) -> None:
    s = guard.settings
    redis = mask_url(s.redis_url) if s.redis_url else "none"
    previous = ", ".join(h.version for h in guard.verifier.previous_hashers)
    pepper = guard.hasher.version + (f" (and previous: {previous})" if previous else "")
    try:
        by_version = await guard.store.active_keys_by_hash_version(utcnow())
    except Exception as exc:  # a line to log: never the reason a start fails
        by_version, counted = {}, f"keys not counted ({type(exc).__name__})"
    else:
        counted = f"{sum(by_version.values())} valid keys"
    logger.info(
        "keyguard started: store %s; redis %s; pepper %s; environments %s; %s",
        describe_store(s.database_url), redis, pepper, ", ".join(s.environments), counted,
    )  # fmt: skip
    strangers = unknown_peppers(by_version, guard.known_hash_versions)
    if strangers:
        logger.warning(
            "%d valid keys are stored under a pepper this server does not have (%s): they"
            " will be refused; set KEYGUARD_PEPPER, or list the old one in"
            " KEYGUARD_PREVIOUS_PEPPERS",
            sum(strangers.values()),
            ", ".join(sorted(strangers)),
        )


@dataclass(frozen=True, slots=True)
class Health:
    """`ready` when this process can check keys within its bounds: started, its store answers
    and its change log is being read. Redis down is reported but leaves it ready: keys are then
    checked against the store."""

    started: bool
    store: str  # "ok" | "unavailable"
    redis: str  # "ok" | "unavailable" | "none"
    changes: str  # "live" | "stale"

    @property
    def ready(self) -> bool:
        return self.started and self.store == "ok" and self.changes == "live"

    def as_dict(self) -> dict[str, Any]:
        return {
            "ready": self.ready,
            "started": self.started,
            "store": self.store,
            "redis": self.redis,
            "changes": self.changes,
        }


async def check_health(guard: KeyGuard) -> Health:
    store = redis = "unavailable"
    if guard.started:
        try:
            await guard.store.last_change()
            store = "ok"
        except Exception:  # whatever it was, the store did not answer
            logger.debug("health: the store did not answer", exc_info=True)
    if guard.shared_cache is None:
        redis = "none"
    elif guard.started:
        try:
            await guard.shared_cache.ping()
            redis = "ok"
        except Exception:
            logger.debug("health: Redis did not answer", exc_info=True)
    changes = "live" if guard.started and guard.feed.live else "stale"
    return Health(guard.started, store, redis, changes)
