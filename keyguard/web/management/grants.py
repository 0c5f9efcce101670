"""What a restricted key may do in the management API, and what it may hand out.

A key with no permission set (`permissions is None`) is not restricted and manages keys as
before. A restricted key needs `api_keys:read` to read (keys, the audit log) and
`api_keys:write` to change anything (`api_keys:*` grants both). It can never hand out more than
it holds: a key it creates, sets permissions on, or rolls (a roll shows the successor's value)
carries only permissions the caller holds itself, and is never unrestricted. Likewise a key
limited to networks hands out secret keys limited to networks inside its own: otherwise a key
that works only inside the office could mint one that works from anywhere.

A key's usage limits are set by any key that may write (`api_keys:write`), except on itself: a
rate-limited key cannot lift or loosen its own rate limits (it may add to them), and a key
with a quota cannot change its own quota, since setting one again is how a quota is reset.
"""

from __future__ import annotations

import ipaddress
from collections.abc import Iterable
from typing import Literal

from keyguard.core import (
    UNCHANGED,
    Access,
    ForbiddenError,
    KeyRecord,
    Permissions,
    RateLimit,
    RateLimitDefaults,
    Unchanged,
)

__all__ = [
    "READ",
    "WRITE",
    "InsufficientScope",
    "check_grant",
    "check_need",
    "check_networks",
    "check_own_limits",
]

READ = "api_keys:read"
WRITE = "api_keys:write"


class InsufficientScope(ForbiddenError):
    """A 403 whose `WWW-Authenticate` names what was missing (RFC 6750 section 3.1)."""

    def __init__(self, message: str, scopes: Iterable[str] = ()) -> None:
        super().__init__(message)
        self.scopes = tuple(scopes)


def check_need(caller: KeyRecord, need: str) -> None:
    """Whether the caller may call an operation that needs `need`."""
    if caller.permissions is not None and not Permissions(caller.permissions).allows(need):
        raise InsufficientScope(f"This API key lacks the permission {need}.", [need])


_UNRESTRICTED = {
    "create": "A key with permissions cannot create a key without them: list the permissions"
    " it should have, from those this key holds.",
    "set": "A key with permissions cannot lift another key's permissions (null): list the"
    " permissions it should have, from those this key holds.",
    "roll": "A key with permissions cannot roll a key without them: the successor's value"
    " would be an unrestricted key.",
}


def check_grant(
    caller: KeyRecord, permissions: Iterable[str] | None, action: Literal["create", "set", "roll"]
) -> None:
    """Whether the caller may give a key these permissions (None: unrestricted) by `action`."""
    if caller.permissions is None:
        return
    if permissions is None:
        raise InsufficientScope(_UNRESTRICTED[action])
    lacking = sorted(Permissions(caller.permissions).missing(set(permissions)))
    if lacking:
        raise InsufficientScope(
            f"A key can only hand out permissions it holds itself; this key lacks: "
            f"{', '.join(lacking)}.",
            lacking,
        )


def check_networks(
    caller: KeyRecord, access: Access, networks: Iterable[str] | None, action: str
) -> None:
    """Whether the caller may give a secret key these allowed networks (None: anywhere)."""
    if caller.allowed_networks is None or access is not Access.SECRET:
        return
    if networks is None:
        raise InsufficientScope(
            f"A key limited to networks cannot {action} a secret key usable from anywhere: list"
            " its allowedNetworks, within this key's."
        )
    own = [ipaddress.ip_network(n) for n in caller.allowed_networks]
    outside = [n for n in networks if not _inside(ipaddress.ip_network(n), own)]
    if outside:
        raise InsufficientScope(
            "A key can only hand out networks within its own allowedNetworks; outside them: "
            f"{', '.join(outside)}."
        )


def _inside(
    network: ipaddress.IPv4Network | ipaddress.IPv6Network,
    own: list[ipaddress.IPv4Network | ipaddress.IPv6Network],
) -> bool:
    return any(
        network.version == mine.version and network.subnet_of(mine)  # type: ignore[arg-type]
        for mine in own
    )


def check_own_limits(
    caller: KeyRecord,
    key: KeyRecord,
    rate_limits: list[RateLimit] | Unchanged | None,
    quota: object,
    defaults: RateLimitDefaults,
) -> None:
    """Whether the caller may set these limits on `key` (the key as stored now): on itself,
    only tighter ones."""
    if key.id != caller.id:
        return
    if quota is not UNCHANGED and key.quota is not None:
        raise ForbiddenError("A key with a quota cannot change or reset its own quota.")
    if rate_limits is UNCHANGED:
        return
    now = _rates(key.rate_limits, key, defaults)
    after = _rates(rate_limits, key, defaults)
    if not now <= after:
        raise ForbiddenError(
            "A rate-limited key cannot lift or loosen its own rate limits; it may only add to them."
        )


def _rates(
    limits: tuple[RateLimit, ...] | list[RateLimit] | None,
    key: KeyRecord,
    defaults: RateLimitDefaults,
) -> set[tuple[int, int]]:
    """The limits that would apply, by count and window (their names change nothing)."""
    applied = defaults.for_key(key.access, key.environment) if limits is None else limits
    return {(limit.limit, limit.window_ms) for limit in applied}
