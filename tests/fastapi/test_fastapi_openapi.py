"""The OpenAPI schema: one http bearer scheme, and every route that needs a key marked with it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Security

from keyguard import KeyRecord
from keyguard.fastapi import APIKeyAuth, APIKeyBearer

from ._support import build_app


def _security(schema: dict[str, Any], path: str, method: str) -> Any:
    return schema["paths"][path][method].get("security")


def test_the_scheme_is_an_http_bearer_scheme() -> None:
    schemes = build_app().openapi()["components"]["securitySchemes"]
    assert schemes == {
        "APIKey": {
            "type": "http",
            "scheme": "bearer",
            "bearerFormat": "sk_live_... / pk_live_...",
            "description": "An API key: Authorization: Bearer <key>",
        }
    }


def test_routes_that_depend_on_a_key_are_secured() -> None:
    schema = build_app().openapi()
    for path, method in [
        ("/me", "get"),
        ("/secret-only", "post"),
        ("/live-only", "get"),
        ("/any-key", "get"),
        ("/optional", "get"),
    ]:
        assert _security(schema, path, method) == [{"APIKey": []}], path


def test_routes_without_a_key_are_not() -> None:
    assert _security(build_app().openapi(), "/health", "get") is None


# Module level: FastAPI resolves the (string) annotations below in the module's namespace.
shop_scheme = APIKeyBearer(scheme_name="ShopKey", bearer_format="sk_*", description=None)


def test_the_scheme_can_be_renamed() -> None:
    app = FastAPI()

    @app.get("/y")
    async def y(key: Annotated[KeyRecord | None, Security(shop_scheme)]) -> None:
        return None

    assert APIKeyAuth.scheme_name == "APIKey"
    schema = app.openapi()
    assert schema["components"]["securitySchemes"] == {
        "ShopKey": {"type": "http", "scheme": "bearer", "bearerFormat": "sk_*"}
    }
    assert _security(schema, "/y", "get") == [{"ShopKey": []}]
