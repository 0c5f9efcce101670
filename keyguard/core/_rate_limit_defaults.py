"""The rate limits a key gets when it sets none of its own: by access (`sk`, `pk`) and, more
specifically, by access and environment (`sk_live`, `pk_test`).

Written in settings as a mapping, `{"pk": "100/s,5000/h", "sk_live": "1000/s"}`, or in one
environment variable, `KEYGUARD_DEFAULT_RATE_LIMITS="pk=100/s,5000/h;sk_live=1000/s"`. The most
specific entry wins whole (a `sk_live` entry replaces `sk`'s limits, it does not add to them); an
empty one (`sk_test=`) means no limit for those keys.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping

from ._errors import ValidationError
from ._keyformat import Access
from ._rate_limits import RateLimit, validate_rate_limits

__all__ = ["RateLimitDefaults", "parse_rate_limit_defaults"]

_ACCESS = {access.code: access for access in Access}


class RateLimitDefaults:
    """Which limits apply to a key with none of its own; built once, answered from a dict."""

    __slots__ = ("_by_kind",)

    def __init__(
        self, entries: Mapping[str, str | Iterable[str]], environments: Iterable[str]
    ) -> None:
        known = frozenset(environments)
        self._by_kind: dict[str, tuple[RateLimit, ...]] = {}
        for kind, limits in entries.items():
            access, _, environment = kind.partition("_")
            if access not in _ACCESS or (environment and environment not in known):
                raise ValueError(
                    f"default_rate_limits: {kind!r} is not an access (sk, pk) or an access and"
                    f" environment (sk_live, pk_test)"
                )
            texts = limits.split(",") if isinstance(limits, str) else list(limits)
            try:
                self._by_kind[kind] = validate_rate_limits([t.strip() for t in texts if t.strip()])
            except ValidationError as exc:
                raise ValueError(f"default_rate_limits[{kind}]: {exc.issues[0].message}") from None

    def for_key(self, access: Access, environment: str) -> tuple[RateLimit, ...]:
        found = self._by_kind.get(f"{access.code}_{environment}")
        if found is None:
            found = self._by_kind.get(access.code, ())
        return found


def parse_rate_limit_defaults(text: str) -> dict[str, str]:
    """`pk=100/s,5000/h;sk_live=1000/s` as the mapping settings take (ValueError if malformed)."""
    entries: dict[str, str] = {}
    for part in text.split(";"):
        if not part.strip():
            continue
        kind, equals, limits = part.partition("=")
        if not equals:
            raise ValueError("must be kind=limits;..., e.g. pk=100/s,5000/h;sk_live=1000/s")
        entries[kind.strip()] = limits.strip()
    return entries
