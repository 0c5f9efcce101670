"""What a restricted key may do: permissions such as `orders:write`, and the check of a need.

The grammar is public and small: a lowercase resource, a colon, a lowercase action or `*` for
every action of that resource (`orders:*`). Names are ASCII letters, digits and `_`, starting
with a letter, up to 40 characters each. The resource `env` is reserved: `env:live` is the
environment scope Starlette's `requires` sees, never a permission. A key with no permission set
is not restricted (what it may do is then its access type's, as before); a key with an empty set
may do nothing.
"""

from __future__ import annotations

import re
from collections.abc import Iterable

from ._errors import FieldIssue, ValidationError

__all__ = [
    "MAX_PERMISSIONS",
    "PERMISSION_PATTERN",
    "RESERVED_RESOURCES",
    "Permissions",
    "is_permission",
    "validate_permission",
    "validate_permissions",
]

_NAME = "[a-z][a-z0-9_]{0,39}"
PERMISSION_PATTERN = re.compile(rf"({_NAME}):({_NAME}|\*)")
MAX_PERMISSIONS = 64
_GRAMMAR = (
    "must be resource:action in lowercase (e.g. orders:write), or resource:*; the resource"
    " env is reserved"
)
RESERVED_RESOURCES = frozenset({"env"})


def is_permission(value: object) -> bool:
    """Whether `value` is a permission in the grammar (and not a reserved scope)."""
    if not isinstance(value, str):
        return False
    match = PERMISSION_PATTERN.fullmatch(value)
    return match is not None and match.group(1) not in RESERVED_RESOURCES


def validate_permission(value: object, field: str = "permission") -> str:
    if not is_permission(value):
        raise ValidationError.single(field, _GRAMMAR)
    assert isinstance(value, str)
    return value


def validate_permissions(values: object, field: str = "permissions") -> frozenset[str]:
    """A permission set as a key stores it: each valid, no more than MAX_PERMISSIONS."""
    if isinstance(values, str) or not isinstance(values, Iterable):
        raise ValidationError.single(field, "must be a list of permissions")
    found, issues = set(), []
    for index, value in enumerate(values):
        if not isinstance(value, str) or not is_permission(value):
            issues.append(FieldIssue(f"{field}[{index}]", _GRAMMAR))
        else:
            found.add(value)
        if index >= MAX_PERMISSIONS:
            raise ValidationError.single(field, f"must hold at most {MAX_PERMISSIONS} permissions")
    if issues:
        raise ValidationError(issues)
    return frozenset(found)


class Permissions:
    """A key's permissions, compiled once: a need is granted by itself or by its resource's
    `*`. Checking costs a set lookup or two, on the cache-hit path."""

    __slots__ = ("_exact", "_lacking", "_whole_resources", "granted")

    def __init__(self, granted: Iterable[str]) -> None:
        self.granted = frozenset(granted)
        self._lacking: dict[tuple[str, ...], tuple[str, ...]] = {}
        self._exact = self.granted
        self._whole_resources = frozenset(p[:-2] for p in self.granted if p.endswith(":*"))

    def allows(self, needed: str) -> bool:
        if needed in self._exact:
            return True
        resource, _, _ = needed.partition(":")
        return resource in self._whole_resources

    def missing(self, needed: Iterable[str]) -> tuple[str, ...]:
        """The needs not granted, in the order asked: what a 403 names."""
        return tuple(n for n in needed if not self.allows(n))

    def lacking(self, needed: tuple[str, ...]) -> tuple[str, ...]:
        """`missing`, remembered per need: for the needs of an app's route table, which are
        few and never come from a client."""
        found = self._lacking.get(needed)
        if found is None:
            found = self._lacking[needed] = self.missing(needed)
        return found

    def __repr__(self) -> str:
        return f"Permissions({sorted(self.granted)!r})"
