"""What each host's uvicorn serves: the end-to-end tests' app (`GET /v1/ping`) with the
management API beside it, so a revoke can be made through one host as a user would make it.
Settings come from KEYGUARD_* variables the test sets."""

from __future__ import annotations

from keyguard import KeyGuard
from keyguard.web.management import management_routes

from ..e2e._asgi import build_app

guard = KeyGuard.from_env()
app = build_app(guard, more_routes=management_routes(guard))
