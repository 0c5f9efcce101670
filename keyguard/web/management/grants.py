"""What a restricted key may do in the management API, and what it may hand out.

A key with no permission set (`permissions is None`) is not restricted and manages keys as
before. A restricted key needs `api_keys:read` to read (keys, the audit log) and
`api_keys:write` to change anything (`api_keys:*` grants both). It can never hand out more than
it holds: a key it creates, sets permissions on, or rolls (a roll shows the successor's value)
carries only permissions the caller holds itself, and is never unrestricted.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Literal

from keyguard.core import ForbiddenError, KeyRecord, Permissions

__all__ = ["READ", "WRITE", "InsufficientScope", "check_grant", "check_need"]

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
