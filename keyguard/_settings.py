"""One settings object for the whole guard, from arguments or the environment."""

from __future__ import annotations

import os
from collections.abc import Mapping
from dataclasses import dataclass, fields, replace
from typing import Any

from keyguard.adapters import DEFAULT_DATABASE_URL, mask_url
from keyguard.core import DEFAULT_ENVIRONMENTS

__all__ = ["ENV_PREFIX", "Settings"]

ENV_PREFIX = "KEYGUARD_"


@dataclass(frozen=True, kw_only=True)
class Settings:
    database_url: str = DEFAULT_DATABASE_URL
    redis_url: str | None = None
    pepper: str | None = None
    # Peppers being retired, newest first: keys minted under them keep working and move to the
    # current pepper on first use. None (`plain` in the environment) is "no pepper".
    previous_peppers: tuple[str | None, ...] = ()
    environments: tuple[str, ...] = DEFAULT_ENVIRONMENTS
    # The revocation bound: how long any process may act on a key's old state after a change
    # committed. No local entry outlives it, and the shared cache is believed only while this
    # process has read the store's change log within it.
    max_staleness: float = 1.0
    local_cache_ttl: float = 1.0  # at most max_staleness
    local_cache_size: int = 10_000
    redis_cache_ttl: float = 60.0
    redis_negative_ttl: float = 5.0
    redis_timeout: float = 0.25
    redis_prefix: str = "keyguard:"
    store_timeout: float = 2.0  # every store call, waiting for a connection included
    # How long start-up keeps trying a store that cannot be reached yet (a database that comes
    # up after the app), each attempt logged; 0: fail at the first.
    start_wait: float = 0.0
    change_poll_interval: float = 0.25  # how often the change log is read, NOTIFY or not
    change_notifications: bool = True  # PostgreSQL LISTEN; off behind PgBouncer (transaction mode)
    change_log_retention: float = 3600.0  # seconds a change stays in the log
    last_used_interval: float = 5.0
    statement_cache_size: int = 100  # 0 behind PgBouncer in transaction mode

    def __post_init__(self) -> None:
        for name in ("max_staleness", "store_timeout", "change_poll_interval", "redis_timeout"):
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be more than 0")
        if not 0 <= self.local_cache_ttl <= self.max_staleness:
            raise ValueError("local_cache_ttl must be between 0 and max_staleness")
        if self.change_poll_interval * 2 > self.max_staleness:
            raise ValueError("change_poll_interval must be at most half of max_staleness")
        if self.start_wait < 0:
            raise ValueError("start_wait must be 0 or more")
        if self.change_log_retention < self.redis_cache_ttl + 60:
            raise ValueError("change_log_retention must exceed redis_cache_ttl by 60 s or more")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """`KEYGUARD_DATABASE_URL`, `KEYGUARD_REDIS_URL`, `KEYGUARD_PEPPER`, and every other
        field as `KEYGUARD_<FIELD>`; keyword arguments win over the environment."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(ENV_PREFIX + f.name.upper())
            if raw is not None and raw != "":
                values[f.name] = _convert(f.name, raw, f.default)
        return replace(cls(**values), **overrides)

    def __repr__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        shown["database_url"] = mask_url(self.database_url)
        shown["redis_url"] = self.redis_url and mask_url(self.redis_url)
        shown["pepper"] = "***" if self.pepper else None
        shown["previous_peppers"] = tuple("***" if p else None for p in self.previous_peppers)
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"


def _convert(name: str, raw: str, default: Any) -> Any:
    if name == "environments":
        return tuple(e.strip() for e in raw.split(",") if e.strip())
    if name == "previous_peppers":
        return tuple(None if p == "plain" else p for p in raw.split(",") if p)
    if isinstance(default, bool):
        return raw.lower() in {"1", "true", "yes", "on"}
    try:
        if isinstance(default, int):
            return int(raw)
        if isinstance(default, float):
            return float(raw)
    except ValueError:
        raise ValueError(f"{ENV_PREFIX}{name.upper()} must be a number") from None
    return raw
