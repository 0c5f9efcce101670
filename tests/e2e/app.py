"""What the uvicorn servers of the end-to-end tests run: `GET /v1/ping` answers the id of the
key it was called with. Settings come from KEYGUARD_* variables the test sets."""

from __future__ import annotations

from keyguard import KeyGuard

from ._asgi import build_app

app = build_app(KeyGuard.from_env())
