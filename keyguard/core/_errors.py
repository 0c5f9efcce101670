"""Error codes of the contract and the exceptions keyguard raises.

Each exception carries its code; the web edge maps codes to HTTP statuses (`keyguard.web`), the
CLI to exit statuses, so both answer the same failure the same way. No message ever includes a
key value.
"""

from __future__ import annotations

import enum
from collections.abc import Iterable
from typing import NamedTuple

__all__ = [
    "CacheUnavailableError",
    "ConflictError",
    "ErrorCode",
    "FieldIssue",
    "ForbiddenError",
    "KeyguardError",
    "NotFoundError",
    "SchemaNotMigratedError",
    "StoreUnavailableError",
    "UnavailableError",
    "ValidationError",
]


class ErrorCode(enum.StrEnum):
    INVALID_API_KEY = "INVALID_API_KEY"
    INVALID_SIGNATURE = "INVALID_SIGNATURE"  # a signed report (secret scanning) that fails
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMITED = "RATE_LIMITED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    CONFLICT = "CONFLICT"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    UNSUPPORTED_MEDIA_TYPE = "UNSUPPORTED_MEDIA_TYPE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class KeyguardError(Exception):
    code: ErrorCode = ErrorCode.INTERNAL_ERROR

    @property
    def message(self) -> str:
        return str(self)


class FieldIssue(NamedTuple):
    field: str
    message: str


class ValidationError(KeyguardError):
    code = ErrorCode.VALIDATION_ERROR

    def __init__(self, issues: Iterable[FieldIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("; ".join(f"{i.field}: {i.message}" for i in self.issues))

    @classmethod
    def single(cls, field: str, message: str) -> ValidationError:
        return cls([FieldIssue(field, message)])


class NotFoundError(KeyguardError):
    code = ErrorCode.NOT_FOUND


class ConflictError(KeyguardError):
    code = ErrorCode.CONFLICT


class ForbiddenError(KeyguardError):
    code = ErrorCode.FORBIDDEN


class UnavailableError(KeyguardError):
    """Something keyguard depends on cannot answer now: retrying later may work."""

    code = ErrorCode.SERVICE_UNAVAILABLE


class StoreUnavailableError(UnavailableError):
    """The key store cannot be reached or did not answer in time."""


class CacheUnavailableError(UnavailableError):
    """The shared cache cannot be reached or did not answer in time."""


class SchemaNotMigratedError(UnavailableError):
    """The database lacks keyguard's tables, or has an older version of them."""

    def __init__(self, have: int, want: int) -> None:
        super().__init__(
            f"the database schema is at version {have}, keyguard needs {want}:"
            " run `keyguard migrate`"
        )
