"""Layer 5, the web edge: the ASGI middleware, Starlette user shapes, management routes, and
responses in keyguard's envelope for an app's own handlers. Public: pinned by
tests/test_public_api.py."""

from ._app_errors import install_error_handlers
from ._errors import keyguard_error_response
from ._json import error_response, request_id, success_response
from ._middleware import APIKeyMiddleware
from ._readiness import readiness_endpoint
from ._refusals import Refusal
from ._request_facts import client_address
from ._responses import POLICY_VIOLATION, Rejection
from ._user import APIKeyUser, credentials_for, scopes_for
from .management import ManagementAPI, management_openapi, management_routes

__all__ = [
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
]
