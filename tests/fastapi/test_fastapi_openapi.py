"""The OpenAPI schema: one http bearer scheme, and every route that needs a key marked with it."""

from __future__ import annotations

from typing import Annotated, Any

from fastapi import FastAPI, Security

from keyguard import KeyGuard, KeyRecord, ManagementAPI, management_routes
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


ENVELOPE = {"$ref": "#/components/schemas/KeyguardErrorEnvelope"}


def _answers(schema: dict[str, Any], path: str, method: str) -> dict[str, Any]:
    responses: dict[str, Any] = schema["paths"][path][method]["responses"]
    return responses


def test_routes_that_take_a_key_list_the_refusals_in_the_envelope() -> None:
    schema = build_app().openapi()
    for path, method in [("/me", "get"), ("/secret-only", "post"), ("/items", "post")]:
        answers = _answers(schema, path, method)
        for status in ("401", "403", "429", "503"):
            assert answers[status]["content"]["application/json"]["schema"] == ENVELOPE, path
    assert "WWW-Authenticate" in _answers(schema, "/me", "get")["401"]["headers"]
    assert set(_answers(schema, "/health", "get")) == {"200"}
    envelope = schema["components"]["schemas"]["KeyguardErrorEnvelope"]
    assert set(envelope["properties"]) == {"data", "error", "meta"}


def test_invalid_input_is_documented_as_400_not_422() -> None:
    schema = build_app().openapi()
    answers = _answers(schema, "/items", "post")
    assert "422" not in answers
    assert answers["400"]["content"]["application/json"]["schema"] == ENVELOPE
    assert "HTTPValidationError" not in schema["components"]["schemas"]


def test_without_the_handlers_the_document_is_fastapis() -> None:
    assert "422" in _answers(build_app(handlers=False).openapi(), "/items", "post")


def test_management_routes_in_the_app_reach_its_document(guard: KeyGuard) -> None:
    extended = build_app()
    extended.router.routes.extend(management_routes(guard))
    mounted = build_app()
    mounted.mount("/admin", ManagementAPI(guard, prefix="/v2"))
    for app, keys in ((extended, "/v1/account/api-keys"), (mounted, "/admin/v2/api-keys")):
        schema = app.openapi()
        create = schema["paths"][keys]["post"]
        assert create["security"] == [{"apiKey": []}]
        body = create["requestBody"]["content"]["application/json"]["schema"]
        assert body == {"$ref": "#/components/schemas/KeyguardCreateAPIKey"}
        assert "KeyguardCreateAPIKey" in schema["components"]["schemas"]
        assert "/me" in schema["paths"]  # the app's own, still there
    # A FastAPI app's document never listed plain Starlette routes.
    assert "/v1/account/api-keys" not in build_app(handlers=False).openapi()["paths"]
