"""What the uvicorn servers of the end-to-end tests run: `GET /v1/ping` answers the id of the
key it was called with (and, given E2E_GITHUB_KEYS_URL, the secret-scanning endpoint
answers at /github/secret-scanning). Settings come from KEYGUARD_* variables the test sets."""

from __future__ import annotations

import os

from keyguard import KeyGuard

from ._asgi import build_app

app = build_app(KeyGuard.from_env(), github_keys_url=os.environ.get("E2E_GITHUB_KEYS_URL"))
