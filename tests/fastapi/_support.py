"""The FastAPI app the tests drive: keyguard's dependencies behind the middleware."""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

import httpx
from fastapi import Depends, FastAPI, Header, HTTPException, Security
from pydantic import BaseModel, ConfigDict

from keyguard import CreatedKey, KeyGuard, KeyRecord
from keyguard.core import detail_view, utcnow
from keyguard.fastapi import APIKeyAuth, api_key, install_error_handlers, require

# pk_* keys may reach these, so that `require` (not the middleware) is what refuses them.
PUBLISHABLE = ["GET /me", "POST /secret-only", "GET /live-only", "GET /any-key"]
PUBLIC = ["/public", "/optional", "/openapi.json"]


class NewItem(BaseModel):
    model_config = ConfigDict(extra="forbid")
    name: str
    price: float
    stock: dict[str, int] = {}


def build_app(*, handlers: bool = True) -> FastAPI:
    app = FastAPI()
    if handlers:
        install_error_handlers(app)

    @app.get("/me")
    async def me(key: Annotated[KeyRecord, Depends(api_key)]) -> dict[str, Any]:
        return detail_view(key, utcnow())

    @app.post("/secret-only")
    async def secret_only(
        key: Annotated[KeyRecord, Depends(require(access="secret"))],
    ) -> dict[str, str]:
        return {"id": key.id}

    @app.get("/live-only")
    async def live_only(
        key: Annotated[KeyRecord, Depends(require(environment="live"))],
    ) -> dict[str, str]:
        return {"id": key.id}

    @app.get("/any-key")
    async def any_key(
        key: Annotated[KeyRecord, Depends(require(access="publishable"))],
    ) -> dict[str, str]:
        return {"id": key.id}

    @app.get("/public")  # public in the middleware, yet it asks for a key: a mistake, so 401
    async def public(key: Annotated[KeyRecord, Depends(api_key)]) -> dict[str, str]:
        return {"id": key.id}

    @app.get("/optional")
    async def optional(key: Annotated[KeyRecord | None, Security(APIKeyAuth)]) -> dict[str, Any]:
        return {"key": None if key is None else key.id}

    _add_public_routes(app)
    _add_item_routes(app)
    return app


def _add_public_routes(app: FastAPI) -> None:
    @app.get("/health")
    async def health() -> dict[str, str]:
        return {"status": "ok"}


def _add_item_routes(app: FastAPI) -> None:
    """Routes whose errors are the app's own: invalid input, an HTTPException, a crash."""

    @app.post("/items")
    async def add_item(
        item: NewItem, key: Annotated[KeyRecord, Depends(api_key)], limit: int = 10
    ) -> dict[str, str]:
        return {"name": item.name}

    @app.get("/items/taken")
    async def taken(key: Annotated[KeyRecord, Depends(api_key)]) -> None:
        raise HTTPException(409, "That item is taken.")

    @app.get("/crash")
    async def crash(
        key: Annotated[KeyRecord, Depends(api_key)], note: Annotated[str, Header()]
    ) -> None:
        raise RuntimeError(note)  # what was sent, as an exception's message may hold


MakeClient = Callable[..., httpx.AsyncClient]


async def mint(guard: KeyGuard, access: str, environment: str) -> CreatedKey:
    return await guard.manager.create(
        account="acme", name=f"{access} {environment}", environment=environment, access=access
    )


def bearer(key: CreatedKey) -> dict[str, str]:
    return {"Authorization": f"Bearer {key.value}"}
