"""One settings object for the whole guard, from arguments or the environment."""

from __future__ import annotations

import math
import os
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field, fields
from typing import Any

from keyguard.adapters import DEFAULT_DATABASE_URL, mask_url
from keyguard.core import (
    DEFAULT_ENVIRONMENTS,
    KeyFormat,
    RateLimitDefaults,
    parse_rate_limit_defaults,
)

__all__ = ["ENV_PREFIX", "Settings"]

ENV_PREFIX = "KEYGUARD_"
_TRUE = frozenset({"1", "true", "yes", "on"})
_FALSE = frozenset({"0", "false", "no", "off"})
# last_used_interval too: at 0 its writer would spin without a pause.
_MORE_THAN_ZERO = (
    "max_staleness",
    "store_timeout",
    "change_poll_interval",
    "redis_timeout",
    "last_used_interval",
    "redis_cache_ttl",  # Redis refuses PX 0: the shared cache would never fill, silently
    "redis_negative_ttl",
)
_DAY = 86_400.0
# Calls wait at most this long: past it, a hung store would hold requests instead of a 503.
_MAX_SECONDS = {"store_timeout": 60.0, "redis_timeout": 10.0, "change_log_retention": 30 * _DAY}
_MAX_CACHE_SIZE = 10_000_000
_MAX_POOL_SIZE = 1000


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
    # Connections each process may hold open to PostgreSQL (plus one for LISTEN): with many
    # processes, their sum must stay under the server's max_connections (docs/scaling.md).
    store_pool_size: int = 10
    # Redis calls each process runs at once; more wait their turn (the pool holds twice this,
    # plus one, for the change channel and the limiters).
    redis_pool_size: int = 50
    # Rate limits of keys that set none: {"pk": "100/s,5000/h", "sk_live": "1000/s"}; the
    # most specific entry wins (see keyguard.core.RateLimitDefaults). None by default.
    default_rate_limits: Mapping[str, str | tuple[str, ...]] = field(default_factory=dict)
    # While Redis cannot count a limited key's requests: "open" counts them in each process
    # (availability first: a limit is not authentication), "closed" answers 503.
    rate_limit_failure: str = "open"

    def __post_init__(self) -> None:
        self._check_bounds()
        try:  # here, so that the error can name where the bad name came from
            KeyFormat(self.environments)
        except ValueError as exc:
            raise ValueError(f"environments: {exc}") from None
        if not 0 <= self.local_cache_ttl <= self.max_staleness:
            raise ValueError("local_cache_ttl must be between 0 and max_staleness")
        if self.change_poll_interval * 2 > self.max_staleness:
            raise ValueError("change_poll_interval must be at most half of max_staleness")
        if self.start_wait < 0:
            raise ValueError("start_wait must be 0 or more")
        if self.rate_limit_failure not in ("open", "closed"):
            raise ValueError("rate_limit_failure must be open or closed")
        self.rate_limit_defaults()  # raises for a malformed entry, naming it
        if self.change_log_retention < self.redis_cache_ttl + 60:
            raise ValueError("change_log_retention must exceed redis_cache_ttl by 60 s or more")

    def _check_bounds(self) -> None:
        """Finite and within sense: NaN passes every comparison, and a timeout of 1e308
        seconds is no timeout at all (requests would hang instead of getting a 503)."""
        for f in fields(self):
            value = getattr(self, f.name)
            if isinstance(value, float) and not 0 <= value <= _MAX_SECONDS.get(f.name, _DAY):
                limit = _MAX_SECONDS.get(f.name, _DAY)
                raise ValueError(f"{f.name} must be a number of seconds from 0 to {limit:g}")
        for name in _MORE_THAN_ZERO:
            if not getattr(self, name) > 0:
                raise ValueError(f"{name} must be more than 0")
        if not 1 <= self.local_cache_size <= _MAX_CACHE_SIZE:
            raise ValueError(f"local_cache_size must be from 1 to {_MAX_CACHE_SIZE}")
        for name in ("store_pool_size", "redis_pool_size"):
            if not 1 <= getattr(self, name) <= _MAX_POOL_SIZE:
                raise ValueError(f"{name} must be from 1 to {_MAX_POOL_SIZE}")
        if self.pepper is not None and not self.pepper.strip():
            raise ValueError("pepper must not be blank: leave it unset, or set a secret")

    def rate_limit_defaults(self) -> RateLimitDefaults:
        return RateLimitDefaults(self.default_rate_limits, self.environments)

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None, **overrides: Any) -> Settings:
        """`KEYGUARD_DATABASE_URL`, `KEYGUARD_REDIS_URL`, `KEYGUARD_PEPPER`, and every other
        field as `KEYGUARD_<FIELD>`; keyword arguments win over the environment.

        Raises ValueError naming the variable, e.g. "KEYGUARD_LOCAL_CACHE_TTL must be a
        number of seconds": the variable, not the field, is what the operator can fix."""
        environ = os.environ if environ is None else environ
        values: dict[str, Any] = {}
        for f in fields(cls):
            raw = environ.get(_variable(f.name))
            if raw is not None and raw != "":
                values[f.name] = _convert(f.name, raw, f.default)
        try:
            return cls(**{**values, **overrides})
        except ValueError as exc:
            raise ValueError(_as_variables(str(exc), values.keys() - overrides.keys())) from None

    def __repr__(self) -> str:
        shown = {f.name: getattr(self, f.name) for f in fields(self)}
        shown["database_url"] = mask_url(self.database_url)
        shown["redis_url"] = self.redis_url and mask_url(self.redis_url)
        shown["pepper"] = "***" if self.pepper else None
        shown["previous_peppers"] = tuple("***" if p else None for p in self.previous_peppers)
        return "Settings(" + ", ".join(f"{k}={v!r}" for k, v in shown.items()) + ")"


def _variable(name: str) -> str:
    return ENV_PREFIX + name.upper()


def _as_variables(message: str, names: Iterable[str]) -> str:
    """The message with each field named by the variable it came from."""
    for name in names:
        message = re.sub(rf"\b{name}\b", _variable(name), message)
    return message


def _convert(name: str, raw: str, default: Any) -> Any:
    variable = _variable(name)
    if name == "environments":
        names = tuple(e.strip() for e in raw.split(",") if e.strip())
        if not names:
            raise ValueError(f"{variable} must name at least one environment, e.g. test,live")
        return names
    if name == "default_rate_limits":
        try:
            return parse_rate_limit_defaults(raw)
        except ValueError as exc:
            raise ValueError(f"{variable} {exc}") from None
    if name == "previous_peppers":
        return tuple(None if p == "plain" else p for p in raw.split(",") if p)
    if isinstance(default, bool):
        word = raw.strip().lower()
        if word not in _TRUE | _FALSE:  # a typo must not turn a setting off unnoticed
            raise ValueError(f"{variable} must be true or false (or 1/0, yes/no, on/off)")
        return word in _TRUE
    if isinstance(default, int):
        digits = raw.strip()
        number = int(digits) if digits.isascii() and digits.isdigit() else -1
        if number < 0:
            raise ValueError(f"{variable} must be a whole number, 0 or more")
        return number
    if isinstance(default, float):
        try:
            seconds = float(raw)
        except ValueError:
            seconds = math.nan
        if not (math.isfinite(seconds) and seconds >= 0):
            raise ValueError(f"{variable} must be a number of seconds, 0 or more, e.g. 0.5")
        return seconds
    return raw
