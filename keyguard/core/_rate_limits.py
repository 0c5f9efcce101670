"""A key's rate limits: "N per W", their text grammar, and their validation.

The grammar is public and small: a count, a slash, an optional multiplier and a unit, `s`, `m`,
`h` or `d` (`100/s`, `10000/h`, `500/15m`, `1000/d`, `20/10s`). No spaces, no leading zeros, no
fractions: one spelling per meaning keeps keys' settings comparable and the audit log readable.
A limit "N per W" is a sustained rate of N/W with a burst of up to N (see `_gcra`).

Bounds: a count from 1 to 10^9, a window from one second to one day, at most four limits per
key, with distinct names (a name is what the `RateLimit` header fields call the policy; it
defaults to the limit's canonical text). One more bound exists for exactness, not taste: the
limiter counts time in ticks of 1/k ms, k = N / gcd(N, W in ms), so that one request's share of
the window, W/N ms, is a whole number of ticks (W / gcd(N, W)) and nothing is ever rounded; a
Redis (Lua 5.1, doubles) script reproduces that exactly only while every value it handles, at
most lcm(N, W in ms), is at most 2^53. Only odd pairs (a huge prime count per day) come near it,
and they are refused with that reason.
"""

from __future__ import annotations

import math
import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass

from ._errors import FieldIssue, ValidationError

__all__ = [
    "MAX_RATE_LIMITS",
    "MAX_RATE_LIMIT_COUNT",
    "MAX_RATE_WINDOW_MS",
    "MIN_RATE_WINDOW_MS",
    "QUOTA_POLICY",
    "RATE_LIMIT_NAME_PATTERN",
    "RATE_LIMIT_PATTERN",
    "RateLimit",
    "interval_text",
    "parse_interval",
    "parse_rate_limit",
    "validate_rate_limits",
]

MAX_RATE_LIMITS = 4
MAX_RATE_LIMIT_COUNT = 10**9
MIN_RATE_WINDOW_MS = 1_000
MAX_RATE_WINDOW_MS = 86_400_000
# What a Lua number (a double) holds exactly: the limiter's values stay at or under it.
_EXACT_LIMIT = 2**53
# The quota's policy name in the RateLimit header fields: no rate limit may take it.
QUOTA_POLICY = "quota"
_UNIT_MS = {"d": 86_400_000, "h": 3_600_000, "m": 60_000, "s": 1_000}
RATE_LIMIT_PATTERN = re.compile(r"([1-9][0-9]{0,9})/([1-9][0-9]{0,5})?([smhd])")
# The header fields quote the name as a structured-field String; keeping names to these
# characters means no escaping is ever needed and a name reads the same in every place.
RATE_LIMIT_NAME_PATTERN = re.compile(r"[A-Za-z0-9][A-Za-z0-9_./-]{0,39}")
_INTERVAL_PATTERN = re.compile(r"([1-9][0-9]{0,5})?([smhd])")
_GRAMMAR = "must be count/window, e.g. 100/s, 10000/h, 500/15m, 1000/d, 20/10s"
_NAME_RULE = "must be 1-40 letters, digits, _ . / or -, starting with a letter or digit"


@dataclass(frozen=True, slots=True)
class RateLimit:
    """`limit` requests per `window_ms` milliseconds, a burst of up to `limit`."""

    limit: int
    window_ms: int
    name: str

    def __post_init__(self) -> None:
        problem = _problem(self.limit, self.window_ms) or _name_problem(self.name)
        if problem:
            raise ValueError(problem)

    @property
    def text(self) -> str:
        """The canonical text: the largest unit that divides the window; parses back equal."""
        return f"{self.limit}/{interval_text(self.window_ms)}"

    @property
    def ticks_per_ms(self) -> int:
        """k: the limiter's clock runs in ticks of 1/k ms, so the interval is whole ticks."""
        return self.limit // math.gcd(self.limit, self.window_ms)

    @property
    def interval_ticks(self) -> int:
        """The emission interval W/N, in ticks: what one unit of cost adds to the TAT."""
        return self.window_ms // math.gcd(self.limit, self.window_ms)

    @property
    def capacity_ticks(self) -> int:
        """W in ticks (= N intervals = lcm(N, W ms)): how far the TAT may run ahead of now."""
        return self.window_ms * self.ticks_per_ms


def _problem(limit: int, window_ms: int) -> str | None:
    if not 1 <= limit <= MAX_RATE_LIMIT_COUNT:
        return f"the count must be from 1 to {MAX_RATE_LIMIT_COUNT}"
    if window_ms % 1_000 or not MIN_RATE_WINDOW_MS <= window_ms <= MAX_RATE_WINDOW_MS:
        return "the window must be whole seconds, from 1s to 1d"
    if math.lcm(limit, window_ms) > _EXACT_LIMIT:
        return "this count and window cannot be counted exactly; use a rounder count"
    return None


def _name_problem(name: object) -> str | None:
    if name == QUOTA_POLICY:
        return f"the name {QUOTA_POLICY!r} is the usage quota's"
    if isinstance(name, str) and RATE_LIMIT_NAME_PATTERN.fullmatch(name):
        return None
    return f"the name {_NAME_RULE}"


def interval_text(ms: int) -> str:
    """A whole number of seconds as the grammar writes it, in the largest unit that divides it
    (`d`, `15m`, `90s`)."""
    for unit, unit_ms in _UNIT_MS.items():
        if ms % unit_ms == 0:
            times = ms // unit_ms
            return f"{'' if times == 1 else times}{unit}"
    raise ValueError("an interval is a whole number of seconds")


def parse_interval(text: str) -> int:
    """`d`, `30d`, `12h`, `90s`: the window part of the grammar, in ms (ValueError else)."""
    match = _INTERVAL_PATTERN.fullmatch(text)
    if match is None:
        raise ValueError("must be a duration, e.g. 1d, 30d, 12h, 15m, 90s")
    times, unit = match.groups()
    return int(times or 1) * _UNIT_MS[unit]


def parse_rate_limit(text: str, name: str | None = None) -> RateLimit:
    """`text` in the grammar as a limit; ValueError (with the reason) for anything else."""
    match = RATE_LIMIT_PATTERN.fullmatch(text)
    if match is None:
        raise ValueError(_GRAMMAR)
    count, times, unit = match.groups()
    window_ms = int(times or 1) * _UNIT_MS[unit]
    problem = _problem(int(count), window_ms)
    if problem:
        raise ValueError(problem)
    canonical = RateLimit(int(count), window_ms, "default")
    return RateLimit(canonical.limit, canonical.window_ms, canonical.text if name is None else name)


def _one(value: object) -> RateLimit:
    """A list entry: the text alone (named by its canonical text) or {"limit", "name"}."""
    if isinstance(value, str):
        return parse_rate_limit(value)
    if isinstance(value, Mapping) and set(value) <= {"limit", "name"}:
        text, name = value.get("limit"), value.get("name")
        if not isinstance(text, str):
            raise ValueError(_GRAMMAR)
        if name is not None and _name_problem(name):
            raise ValueError(f"the name {_NAME_RULE}")
        return parse_rate_limit(text, name)
    raise ValueError(f'{_GRAMMAR}, or {{"limit": ..., "name": ...}}')


def validate_rate_limits(values: object, field: str = "rateLimits") -> tuple[RateLimit, ...]:
    """A key's limits as it stores them: each valid, at most MAX_RATE_LIMITS, names distinct.
    Errors name the entry (`rateLimits[1]`), never echo the value."""
    if isinstance(values, str | bytes | Mapping) or not isinstance(values, Iterable):
        raise ValidationError.single(field, "must be a list of rate limits")
    found: list[RateLimit] = []
    issues: list[FieldIssue] = []
    for index, value in enumerate(values):
        if index >= MAX_RATE_LIMITS:
            raise ValidationError.single(field, f"must hold at most {MAX_RATE_LIMITS} limits")
        try:
            limit = _one(value)
        except ValueError as exc:
            issues.append(FieldIssue(f"{field}[{index}]", str(exc)))
            continue
        if any(limit.name == other.name for other in found):
            issues.append(FieldIssue(f"{field}[{index}]", "repeats the name of another limit"))
        found.append(limit)
    if issues:
        raise ValidationError(issues)
    return tuple(found)
