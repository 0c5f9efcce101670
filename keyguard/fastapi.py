"""FastAPI integration (the `keyguard[fastapi]` extra): dependencies and an OpenAPI scheme.

`APIKeyMiddleware` is what authenticates. These helpers look nothing up: they hand a route the
key the middleware verified, and narrow it per route. A route that depends on them but that the
middleware let through without a key (a public path, or no middleware at all) answers 401: it
never runs keyless.

    app = FastAPI()
    app.add_middleware(APIKeyMiddleware, guard=guard, public_paths=["/docs", "/openapi.json"])
    install_error_handlers(app)  # every error of the app in keyguard's JSON envelope

    @app.get("/orders")
    async def orders(key: Annotated[KeyRecord, Depends(api_key)]): ...

    @app.post("/orders")
    async def place(key: Annotated[KeyRecord, Depends(require(access="secret"))]): ...

- `api_key`: the `KeyRecord` the middleware attached (`request.state.api_key`), else 401.
- `require(access=..., environment=...)`: the same, or 403 `FORBIDDEN` when the key lacks them.
- `APIKeyAuth`: the OpenAPI `http` bearer scheme both depend on, so /docs has an "Authorize"
  button and the routes are marked secured. `Security(APIKeyAuth)` alone gives the record or None.
- `install_error_handlers(app)` renders `APIKeyError`, 404/405, any `HTTPException`, a crash
  (500) and invalid input (400 `VALIDATION_ERROR`, not 422) in the envelope, and makes /docs say
  so (and list mounted management routes); without it the statuses of these helpers are the
  same but the body is FastAPI's `{"detail": ...}`.
"""

from keyguard.web._fastapi import (
    APIKeyAuth,
    APIKeyBearer,
    APIKeyError,
    api_key,
    api_key_error_handler,
    install_error_handlers,
    require,
)

__all__ = [
    "APIKeyAuth",
    "APIKeyBearer",
    "APIKeyError",
    "api_key",
    "api_key_error_handler",
    "install_error_handlers",
    "require",
]
