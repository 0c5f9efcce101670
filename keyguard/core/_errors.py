"""Error codes of the contract and the exceptions the lifecycle API raises.

Each exception carries the code and HTTP status it maps to, so the CLI and the HTTP API answer
the same failure the same way. No message ever includes a key value.
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
    "ValidationError",
]


class ErrorCode(enum.StrEnum):
    INVALID_API_KEY = "INVALID_API_KEY"
    FORBIDDEN = "FORBIDDEN"
    RATE_LIMITED = "RATE_LIMITED"
    SERVICE_UNAVAILABLE = "SERVICE_UNAVAILABLE"
    VALIDATION_ERROR = "VALIDATION_ERROR"
    NOT_FOUND = "NOT_FOUND"
    METHOD_NOT_ALLOWED = "METHOD_NOT_ALLOWED"
    CONFLICT = "CONFLICT"
    PAYLOAD_TOO_LARGE = "PAYLOAD_TOO_LARGE"
    INTERNAL_ERROR = "INTERNAL_ERROR"


class KeyguardError(Exception):
    code: ErrorCode = ErrorCode.INTERNAL_ERROR
    status: int = 500

    @property
    def message(self) -> str:
        return str(self)


class FieldIssue(NamedTuple):
    field: str
    message: str


class ValidationError(KeyguardError):
    code = ErrorCode.VALIDATION_ERROR
    status = 400

    def __init__(self, issues: Iterable[FieldIssue]) -> None:
        self.issues = tuple(issues)
        super().__init__("; ".join(f"{i.field}: {i.message}" for i in self.issues))

    @classmethod
    def single(cls, field: str, message: str) -> ValidationError:
        return cls([FieldIssue(field, message)])


class NotFoundError(KeyguardError):
    code = ErrorCode.NOT_FOUND
    status = 404


class ConflictError(KeyguardError):
    code = ErrorCode.CONFLICT
    status = 409


class ForbiddenError(KeyguardError):
    code = ErrorCode.FORBIDDEN
    status = 403


class StoreUnavailableError(KeyguardError):
    """The key store cannot be reached or did not answer in time."""

    code = ErrorCode.SERVICE_UNAVAILABLE
    status = 503


class CacheUnavailableError(KeyguardError):
    """The shared cache cannot be reached or did not answer in time."""

    code = ErrorCode.SERVICE_UNAVAILABLE
    status = 503


class SchemaNotMigratedError(KeyguardError):
    """The database lacks keyguard's tables, or has an older version of them."""

    code = ErrorCode.SERVICE_UNAVAILABLE
    status = 503

    def __init__(self, have: int, want: int) -> None:
        super().__init__(
            f"the database schema is at version {have}, keyguard needs {want}:"
            " run `keyguard migrate`"
        )
