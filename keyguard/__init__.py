"""keyguard: API-key authentication for ASGI services.

The public API is re-exported here and pinned by tests/test_public_api.py.
"""

from keyguard.adapters import (
    DEFAULT_DATABASE_URL,
    PostgresKeyStore,
    SQLiteKeyStore,
    store_from_url,
)
from keyguard.core import (
    Access,
    AccountSettings,
    AuditEvent,
    AuditEventType,
    AuditQuery,
    ConflictError,
    CreatedKey,
    ErrorCode,
    FieldIssue,
    ForbiddenError,
    KeyFormat,
    KeyFormatError,
    KeyguardError,
    KeyHasher,
    KeyProblem,
    KeyQuery,
    KeyRecord,
    KeySort,
    KeyStatus,
    NotFoundError,
    Page,
    ParsedKey,
    SchemaNotMigratedError,
    StoreUnavailableError,
    ValidationError,
)
from keyguard.ports import KeyStore
from keyguard.services import KeyChange, KeyManager
from keyguard.web import APIKeyMiddleware, ManagementAPI, management_routes

from ._guard import KeyGuard
from ._settings import Settings

__version__ = "0.1.0"

__all__ = [
    "DEFAULT_DATABASE_URL",
    "APIKeyMiddleware",
    "Access",
    "AccountSettings",
    "AuditEvent",
    "AuditEventType",
    "AuditQuery",
    "ConflictError",
    "CreatedKey",
    "ErrorCode",
    "FieldIssue",
    "ForbiddenError",
    "KeyChange",
    "KeyFormat",
    "KeyFormatError",
    "KeyGuard",
    "KeyHasher",
    "KeyManager",
    "KeyProblem",
    "KeyQuery",
    "KeyRecord",
    "KeySort",
    "KeyStatus",
    "KeyStore",
    "KeyguardError",
    "ManagementAPI",
    "NotFoundError",
    "Page",
    "ParsedKey",
    "PostgresKeyStore",
    "SQLiteKeyStore",
    "SchemaNotMigratedError",
    "Settings",
    "StoreUnavailableError",
    "ValidationError",
    "__version__",
    "management_routes",
    "store_from_url",
]
