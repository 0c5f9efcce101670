"""keyguard: API-key authentication for ASGI services.

The public API is what this module, `keyguard.web` and `keyguard.fastapi` export, pinned by
tests/test_public_api.py. The layers below (`keyguard.core`, `.ports`, `.adapters`, `.services`)
are internal: their names may change between releases.
"""

from importlib import metadata as _metadata

from keyguard.adapters import (
    DEFAULT_DATABASE_URL,
    LocalFailureLimiter,
    PostgresKeyStore,
    RedisFailureLimiter,
    RedisKeyCache,
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
    KeyRedactingFilter,
    KeySort,
    KeyStatus,
    NotFoundError,
    Page,
    ParsedKey,
    SchemaNotMigratedError,
    StoreUnavailableError,
    UnavailableError,
    ValidationError,
)
from keyguard.ports import (
    Decision,
    FailureLimiter,
    Gauges,
    KeyStore,
    Observer,
    Observers,
    SharedCache,
)
from keyguard.services import KeyChange, KeyManager
from keyguard.web import APIKeyMiddleware, ManagementAPI, management_routes

from ._guard import KeyGuard
from ._settings import Settings

try:
    __version__ = _metadata.version("keyguard")
except _metadata.PackageNotFoundError:  # imported from a checkout that was never installed
    __version__ = "0+unknown"

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
    "Decision",
    "ErrorCode",
    "FailureLimiter",
    "FieldIssue",
    "ForbiddenError",
    "Gauges",
    "KeyChange",
    "KeyFormat",
    "KeyFormatError",
    "KeyGuard",
    "KeyHasher",
    "KeyManager",
    "KeyProblem",
    "KeyQuery",
    "KeyRecord",
    "KeyRedactingFilter",
    "KeySort",
    "KeyStatus",
    "KeyStore",
    "KeyguardError",
    "LocalFailureLimiter",
    "ManagementAPI",
    "NotFoundError",
    "Observer",
    "Observers",
    "Page",
    "ParsedKey",
    "PostgresKeyStore",
    "RedisFailureLimiter",
    "RedisKeyCache",
    "SQLiteKeyStore",
    "SchemaNotMigratedError",
    "Settings",
    "SharedCache",
    "StoreUnavailableError",
    "UnavailableError",
    "ValidationError",
    "__version__",
    "management_routes",
    "store_from_url",
]
