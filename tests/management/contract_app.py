"""The management API alone, as the contract test's uvicorn serves it: settings from
KEYGUARD_* variables, and a failure limit out of reach, since schemathesis sends bad keys on
purpose and a 429 would hide the answers it checks."""

from __future__ import annotations

from starlette.applications import Starlette

from keyguard import KeyGuard
from keyguard.adapters import LocalFailureLimiter
from keyguard.web import APIKeyMiddleware, management_routes

guard = KeyGuard.from_env()
app = APIKeyMiddleware(
    Starlette(routes=management_routes(guard)),
    guard=guard,
    failure_limiter=LocalFailureLimiter(limit=1_000_000_000),
)
