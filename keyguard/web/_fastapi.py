"""FastAPI helpers, public as `keyguard.fastapi` (see there): the key the middleware attached,
as a dependency, its OpenAPI security scheme, and the app's errors in the envelope.

This module and the two it uses (`_fastapi_validation`, `_fastapi_openapi`) are the only ones of
keyguard that import FastAPI (the `keyguard[fastapi]` extra).
"""

from __future__ import annotations

import logging
from collections.abc import Awaitable, Callable, Mapping, Sequence
from typing import Annotated

try:
    from fastapi import FastAPI, Security
    from fastapi.exceptions import RequestValidationError
    from fastapi.openapi.models import HTTPBearer as HTTPBearerModel
    from fastapi.security.base import SecurityBase
except ImportError as exc:  # pragma: no cover - depends on what is installed
    raise ImportError("keyguard.fastapi needs FastAPI: pip install 'keyguard[fastapi]'") from exc
from starlette.exceptions import HTTPException
from starlette.requests import HTTPConnection, Request
from starlette.responses import Response

from keyguard.core import (
    Access,
    ErrorCode,
    KeyguardError,
    KeyRecord,
    Permissions,
    validate_permissions,
)

from . import _app_errors
from ._envelope import (
    DEFAULT_REALM,
    FORBIDDEN_MESSAGE,
    INVALID_KEY_MESSAGE,
    MISSING_KEY_MESSAGE,
    insufficient_scope,
    missing_permissions_message,
    realm_of,
    www_authenticate,
)
from ._fastapi_openapi import document_keyguard
from ._fastapi_validation import on_validation_error
from ._json import error_response, request_id

__all__ = [
    "APIKeyAuth",
    "APIKeyBearer",
    "APIKeyError",
    "api_key",
    "api_key_error_handler",
    "install_error_handlers",
    "require",
]

logger = logging.getLogger(__name__)


class APIKeyBearer(SecurityBase):
    """An OpenAPI `http` `bearer` scheme (the docs' "Authorize" button) that reads no header.

    Unlike `fastapi.security.HTTPBearer` it does not parse `Authorization` again, nor hold the key
    value in a model whose repr would show it: used as a dependency, it returns the record the
    middleware attached, or None.
    """

    def __init__(
        self,
        *,
        scheme_name: str = "APIKey",
        bearer_format: str = "sk_live_... / pk_live_...",
        description: str | None = "An API key: Authorization: Bearer <key>",
    ) -> None:
        self.model = HTTPBearerModel(bearerFormat=bearer_format, description=description)
        self.scheme_name = scheme_name

    async def __call__(self, connection: HTTPConnection) -> KeyRecord | None:
        record = connection.scope.get("state", {}).get("api_key")
        return record if isinstance(record, KeyRecord) else None


APIKeyAuth = APIKeyBearer()


class APIKeyError(HTTPException):
    """A 401 or 403 from a keyguard dependency. `install_error_handlers` renders it in the
    envelope; without it, FastAPI's default handler still answers the right status."""

    def __init__(
        self, status_code: int, code: ErrorCode, message: str, headers: Mapping[str, str] | None
    ) -> None:
        super().__init__(status_code, message, headers)
        self.code = code

    @classmethod
    def forbidden(cls, realm: str = DEFAULT_REALM, scopes: Sequence[str] = ()) -> APIKeyError:
        """`scopes` are those the route needs, in `scopes_for`'s names (`secret`, `env:live`)."""
        challenge = insufficient_scope(realm, scopes)
        return cls(403, ErrorCode.FORBIDDEN, FORBIDDEN_MESSAGE, {"WWW-Authenticate": challenge})

    @classmethod
    def lacking(cls, missing: Sequence[str], realm: str = DEFAULT_REALM) -> APIKeyError:
        """A 403 naming the permissions a restricted key lacks."""
        challenge = insufficient_scope(realm, missing)
        message = missing_permissions_message(missing)
        return cls(403, ErrorCode.FORBIDDEN, message, {"WWW-Authenticate": challenge})

    @classmethod
    def unauthenticated(cls, key_sent: bool, realm: str = DEFAULT_REALM) -> APIKeyError:
        message = INVALID_KEY_MESSAGE if key_sent else MISSING_KEY_MESSAGE
        challenge = www_authenticate(realm, key_sent=key_sent).decode()
        return cls(401, ErrorCode.INVALID_API_KEY, message, {"WWW-Authenticate": challenge})


async def api_key(
    connection: HTTPConnection, record: Annotated[KeyRecord | None, Security(APIKeyAuth)]
) -> KeyRecord:
    """The key the middleware verified for this request; 401 if it attached none.

    Depending on it marks the route as secured by `APIKeyAuth` in the OpenAPI schema.
    """
    if record is not None:
        return record
    route = getattr(connection.scope.get("route"), "path", "?")  # the template: no client data
    logger.warning(
        "route %s needs an API key but none was attached: is APIKeyMiddleware installed,"
        " and is the route outside its public_paths?",
        route,
    )
    raise APIKeyError.unauthenticated(
        key_sent="authorization" in connection.headers, realm=realm_of(connection.scope)
    )


def require(
    *,
    access: Access | str | None = None,
    environment: str | None = None,
    permissions: Sequence[str] = (),
) -> Callable[..., Awaitable[KeyRecord]]:
    """A dependency returning the request's key if it has `access`, `environment` and
    `permissions`, else 403.

    `access="secret"` admits only secret keys; `"publishable"` admits any key, as a secret key
    may call whatever a publishable one may. `permissions` are needed of restricted keys (an
    unrestricted key holds them all) and listed as the operation's scopes in the OpenAPI
    document. Raises ValueError for an unknown access or a malformed permission.
    """
    needed = None if access is None else _access(access)
    needs = _permissions(permissions)
    _check_environment(environment)
    # What a refusal's challenge names: a publishable key needs nothing any key lacks.
    scopes = [
        *(["secret"] if needed is Access.SECRET else []),
        *([f"env:{environment}"] if environment is not None else []),
    ]

    # A default, not `Annotated`: these annotations are strings, and `needs` is local.
    async def required_key(
        connection: HTTPConnection,
        record: KeyRecord = Security(api_key, scopes=needs),  # noqa: B008
    ) -> KeyRecord:
        if (needed is Access.SECRET and record.access is not Access.SECRET) or (
            environment is not None and record.environment != environment
        ):
            raise APIKeyError.forbidden(realm_of(connection.scope), scopes)
        if needs and record.permissions is not None:
            missing = Permissions(record.permissions).missing(needs)
            if missing:
                raise APIKeyError.lacking(missing, realm_of(connection.scope))
        return record

    return required_key


def _check_environment(environment: str | None) -> None:
    if environment is not None and not (
        environment.isascii() and environment.isalpha() and environment.islower()
    ):
        raise ValueError(f"an environment is lowercase letters, not {environment!r}")


def _permissions(permissions: Sequence[str]) -> list[str]:
    if isinstance(permissions, str):
        raise TypeError("permissions is a list: require(permissions=['orders:write'])")
    try:
        return sorted(validate_permissions(permissions))
    except KeyguardError as exc:
        raise ValueError(f"require(permissions=...): {exc}") from None


def _access(access: Access | str) -> Access:
    try:
        return Access(access)
    except ValueError:
        raise ValueError(f"access is 'secret' or 'publishable', not {access!r}") from None


async def api_key_error_handler(request: Request, exc: Exception) -> Response:
    """`APIKeyError` as keyguard's envelope, with the same headers as the middleware's refusals."""
    assert isinstance(exc, APIKeyError)
    return error_response(
        exc.code, exc.detail, request_id(request.scope), status=exc.status_code, headers=exc.headers
    )


def install_error_handlers(app: FastAPI) -> None:
    """Every error of `app` in the envelope, and its OpenAPI document saying so; call it before
    the app serves. `keyguard.web.install_error_handlers` (404, 405, any `HTTPException`,
    `@requires`, keyguard's errors, 500), plus: `APIKeyError`, request validation as 400
    `VALIDATION_ERROR` naming each field, and a document that lists the envelope for
    401/403/429/503 on routes that take a key, 400 for 422, and mounted management routes."""
    _app_errors.install_error_handlers(app)
    app.add_exception_handler(APIKeyError, api_key_error_handler)
    app.add_exception_handler(RequestValidationError, on_validation_error)
    document_keyguard(app)
