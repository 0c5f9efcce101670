"""A key's restrictions as one value: what it may do (permissions) and where it may be used from
(allowed origins for publishable keys, allowed networks for secret keys), validated together
because which lists a key may carry depends on its access.

None in any field means "not restricted"; an empty permission set means "may do nothing".
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Final

from ._errors import FieldIssue, ValidationError
from ._keyformat import Access
from ._permissions import validate_permissions
from ._places import validate_networks, validate_origins
from ._records import KeyRecord

__all__ = [
    "UNCHANGED",
    "Restrictions",
    "Unchanged",
    "decoded_restrictions",
    "restriction_changes",
]


class Unchanged(enum.Enum):
    UNCHANGED = "unchanged"


UNCHANGED: Final = Unchanged.UNCHANGED  # an update's "leave this field as it is"


@dataclass(frozen=True, slots=True)
class Restrictions:
    permissions: frozenset[str] | None = None
    allowed_origins: tuple[str, ...] | None = None
    allowed_networks: tuple[str, ...] | None = None

    @classmethod
    def of(cls, record: KeyRecord) -> Restrictions:
        return cls(record.permissions, record.allowed_origins, record.allowed_networks)

    @classmethod
    def validated(
        cls,
        access: Access,
        *,
        permissions: Iterable[str] | None = None,
        allowed_origins: Iterable[str] | None = None,
        allowed_networks: Iterable[str] | None = None,
    ) -> Restrictions:
        """Each list checked against its grammar, and against the key's access: origins are
        for publishable keys (a browser shows them), networks for secret keys (servers)."""
        issues: list[FieldIssue] = []
        if allowed_origins is not None and access is Access.SECRET:
            issues.append(FieldIssue("allowedOrigins", "is for publishable keys only"))
        if allowed_networks is not None and access is Access.PUBLISHABLE:
            issues.append(FieldIssue("allowedNetworks", "is for secret keys only"))
        if issues:
            raise ValidationError(issues)
        return cls(
            None if permissions is None else validate_permissions(permissions),
            None if allowed_origins is None else validate_origins(allowed_origins),
            None if allowed_networks is None else validate_networks(allowed_networks),
        )

    def as_fields(self) -> dict[str, Any]:
        """The restrictions as `KeyRecord` keyword arguments."""
        return {
            "permissions": self.permissions,
            "allowed_origins": self.allowed_origins,
            "allowed_networks": self.allowed_networks,
        }

    def as_json(self) -> dict[str, list[str] | None]:
        """The restrictions as the API and the audit log show them (sorted permissions)."""
        return {
            "permissions": None if self.permissions is None else sorted(self.permissions),
            "allowedOrigins": None if self.allowed_origins is None else list(self.allowed_origins),
            "allowedNetworks": (
                None if self.allowed_networks is None else list(self.allowed_networks)
            ),
        }


def restriction_changes(
    record: KeyRecord,
    *,
    permissions: Iterable[str] | Unchanged | None = UNCHANGED,
    allowed_origins: Iterable[str] | Unchanged | None = UNCHANGED,
    allowed_networks: Iterable[str] | Unchanged | None = UNCHANGED,
) -> Restrictions:
    """The record's restrictions with the given fields replaced (None lifts a restriction),
    validated as a whole."""
    old = Restrictions.of(record)
    return Restrictions.validated(
        record.access,
        permissions=old.permissions if permissions is UNCHANGED else permissions,
        allowed_origins=old.allowed_origins if allowed_origins is UNCHANGED else allowed_origins,
        allowed_networks=(
            old.allowed_networks if allowed_networks is UNCHANGED else allowed_networks
        ),
    )


def decoded_restrictions(
    access: Access, permissions: object, allowed_origins: object, allowed_networks: object
) -> Restrictions:
    """Restrictions read back from a store row or a shared-cache entry, checked as on write.
    Anything else (a row edited by hand, a writer with a bug) raises ValueError: a corrupt
    record is refused, never read as a wider key, and never a crash on the request path."""
    for value in (permissions, allowed_origins, allowed_networks):
        if value is not None and type(value) is not list:
            raise ValueError("malformed restrictions")
    try:
        return Restrictions.validated(
            access,
            permissions=permissions,  # type: ignore[arg-type]
            allowed_origins=allowed_origins,  # type: ignore[arg-type]
            allowed_networks=allowed_networks,  # type: ignore[arg-type]
        )
    except ValidationError:
        raise ValueError("malformed restrictions") from None
