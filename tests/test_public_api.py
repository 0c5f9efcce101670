"""The public API, pinned: every public name of `keyguard`, `keyguard.web`, `keyguard.fastapi`,
`keyguard.metrics`, `keyguard.testing` and `keyguard.tracing`, read from the modules themselves
(`vars()`), must be listed here and in the module's `__all__`. Adding, removing or renaming one
fails this test: do it on purpose."""

from __future__ import annotations

import types

import pytest

import keyguard
import keyguard.fastapi
import keyguard.metrics
import keyguard.testing
import keyguard.tracing
import keyguard.web
import keyguard.web.admin
import keyguard.web.secret_scanning

PUBLIC = {
    keyguard: {
        "APIKeyMiddleware",
        "Access",
        "AccountSettings",
        "AuditEvent",
        "AuditEventType",
        "AuditQuery",
        "ConflictError",
        "CreatedKey",
        "Decision",
        "DEFAULT_DATABASE_URL",
        "ErrorCode",
        "FailureLimiter",
        "FieldIssue",
        "Gauges",
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
        "management_routes",
        "store_from_url",
    },
    keyguard.web: {
        "POLICY_VIOLATION",
        "APIKeyMiddleware",
        "APIKeyUser",
        "ManagementAPI",
        "Refusal",
        "Rejection",
        "client_address",
        "credentials_for",
        "error_response",
        "install_error_handlers",
        "keyguard_error_response",
        "management_openapi",
        "management_routes",
        "readiness_endpoint",
        "request_id",
        "scopes_for",
        "success_response",
    },
    keyguard.web.admin: {"AdminIdentity", "AdminPage", "Identify", "TokenSignIn"},
    keyguard.web.secret_scanning: {
        "DEFAULT_MAX_BODY_SIZE",
        "DEFAULT_PUBLIC_KEYS_URL",
        "GitHubPublicKeys",
        "LeakAction",
        "SecretScanningEndpoint",
        "SignatureCheck",
    },
    keyguard.fastapi: {
        "APIKeyAuth",
        "APIKeyBearer",
        "APIKeyError",
        "api_key",
        "api_key_error_handler",
        "install_error_handlers",
        "require",
    },
    keyguard.metrics: {
        "FLUSH_LAG_BUCKETS",
        "FLUSH_SIZE_BUCKETS",
        "LAG_BUCKETS",
        "LATENCY_BUCKETS",
        "PrometheusMetrics",
        "metrics_app",
    },
    keyguard.testing: {"MEMORY_DATABASE_URL", "TEST_ACCOUNT", "memory_guard", "mint", "mint_sync"},
    keyguard.tracing: {"TracingObserver"},
}
# Subpackages (and the optional modules), present as attributes once imported: the layers
# (internal) and the edges.
SUBPACKAGES = {
    "adapters",
    "cli",
    "core",
    "demo",
    "fastapi",
    "metrics",
    "ports",
    "services",
    "testing",
    "tracing",
    "web",
}


def _public_names(module: types.ModuleType) -> set[str]:
    return {
        name
        for name, value in vars(module).items()
        if not name.startswith("_") and not isinstance(value, types.ModuleType)
    }


@pytest.mark.parametrize("module", PUBLIC, ids=lambda m: m.__name__)
def test_every_public_name_is_listed(module: types.ModuleType) -> None:
    assert _public_names(module) == PUBLIC[module]
    assert set(module.__all__) - {"__version__"} == PUBLIC[module]


def test_only_known_subpackages_hang_off_the_package() -> None:
    modules = {
        n for n, v in vars(keyguard).items() if isinstance(v, types.ModuleType) and n[0] != "_"
    }
    assert modules <= SUBPACKAGES


def test_the_version_is_the_installed_distributions() -> None:
    from importlib.metadata import version

    assert keyguard.__version__ == version("keyguard")
    assert "__version__" in keyguard.__all__


def test_authenticating_alone_never_imports_pydantic() -> None:
    """The management API's models load when its routes are built, not with `keyguard`."""
    import subprocess
    import sys

    code = "import sys, keyguard, keyguard.web; sys.exit('pydantic' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0


def test_the_library_never_imports_the_admin_pages_templates() -> None:
    """Jinja2 comes with `keyguard[admin]` and loads only with `keyguard.web.admin`."""
    import subprocess
    import sys

    code = "import sys, keyguard, keyguard.web, keyguard.fastapi; sys.exit('jinja2' in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
    code = "import sys, keyguard.web.admin; sys.exit('jinja2' not in sys.modules)"
    assert subprocess.run([sys.executable, "-c", code], check=False).returncode == 0
