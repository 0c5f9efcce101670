"""A FastAPI app's OpenAPI document, made to say what the app answers once keyguard's handlers
are installed: the envelope for 401/403/429/503 on routes that take a key, 400 (not 422) for
invalid input, and the management API's operations when its routes are mounted in the app.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

from fastapi import FastAPI
from fastapi.dependencies.models import Dependant
from fastapi.routing import APIRoute

__all__ = ["document_keyguard"]

Doc = dict[str, Any]
_PREFIX = "Keyguard"  # the envelope's schema names: the app's own may be `Meta` or `ErrorCode`
_SCHEMAS = "#/components/schemas/"
_ENVELOPE = {"$ref": f"{_SCHEMAS}{_PREFIX}ErrorEnvelope"}
_REFUSALS = {
    "401": "No API key, or one that is not valid (INVALID_API_KEY).",
    "403": "The API key may not make this request (FORBIDDEN).",
    "429": "Too many failed attempts from this client (RATE_LIMITED).",
    "503": "API keys cannot be checked right now (SERVICE_UNAVAILABLE).",
}
_INVALID = "Invalid input: `error.details` names each field (VALIDATION_ERROR)."
_HEADERS = {"401": "WWW-Authenticate", "403": "WWW-Authenticate", "429": "Retry-After"}
_FASTAPI_422_SCHEMAS = ("HTTPValidationError", "ValidationError")


def document_keyguard(app: FastAPI) -> None:
    """Wrap `app.openapi` so the document it builds (once) says the above."""
    build = app.openapi

    def openapi() -> Doc:
        fresh = app.openapi_schema is None
        document = build()
        if fresh:
            _amend(app, document)
        return document

    app.openapi = openapi  # type: ignore[method-assign]


def _amend(app: FastAPI, document: Doc) -> None:
    from .management.document import mounted_documents  # here: pydantic loads when asked
    from .management.schemas import envelope_schemas

    schemas = document.setdefault("components", {}).setdefault("schemas", {})
    schemas.update(envelope_schemas(_PREFIX))
    paths = document.setdefault("paths", {})
    for operation in _operations(paths):
        _answer_400(operation["responses"])
    for path, method in _keyed(app):
        operation = paths.get(path, {}).get(method)
        if operation is not None:
            for status, description in _REFUSALS.items():
                operation["responses"].setdefault(status, _response(status, description))
    for management in mounted_documents(app.routes):
        _merge(document, management)
    text = json.dumps(document)
    for name in _FASTAPI_422_SCHEMAS:
        if f'"{_SCHEMAS}{name}"' not in text:  # nothing documents a 422 any more
            schemas.pop(name, None)


def _operations(paths: Doc) -> Iterator[Doc]:
    for item in paths.values():
        for operation in item.values():
            if isinstance(operation, dict) and "responses" in operation:
                yield operation


def _answer_400(responses: Doc) -> None:
    """FastAPI documents a 422 with its own body; the handlers answer 400 in the envelope."""
    if responses.pop("422", None) is not None:
        responses.setdefault("400", _response("400", _INVALID))


def _response(status: str, description: str) -> Doc:
    headers: Doc = {"X-Request-ID": {"schema": {"type": "string"}, "required": True}}
    if status in _HEADERS:
        headers[_HEADERS[status]] = {"schema": {"type": "string"}}
    return {
        "description": description,
        "headers": headers,
        "content": {"application/json": {"schema": _ENVELOPE}},
    }


def _keyed(app: FastAPI) -> Iterator[tuple[str, str]]:
    """(path, method) of every route that depends on keyguard's scheme."""
    for route in app.routes:
        if isinstance(route, APIRoute) and _takes_a_key(route.dependant):
            for method in route.methods or ():
                yield route.path_format, method.lower()


def _takes_a_key(dependant: Dependant) -> bool:
    from ._fastapi import APIKeyBearer  # that module imports this one

    if isinstance(dependant.call, APIKeyBearer):
        return True
    return any(_takes_a_key(sub) for sub in dependant.dependencies)


def _merge(document: Doc, management: Doc) -> None:
    """The management API's paths and schemas beside the app's (the app's win a clash), its
    schema names prefixed as the envelope's are, each operation marked with its scheme."""
    # Only references hold this text: renaming them in the JSON renames them all.
    renamed = json.loads(json.dumps(management).replace(f'"{_SCHEMAS}', f'"{_SCHEMAS}{_PREFIX}'))
    for path, item in renamed["paths"].items():
        for operation in item.values():
            operation.setdefault("security", renamed["security"])
        document["paths"].setdefault(path, item)
    components = document["components"]
    for name, schema in renamed["components"]["schemas"].items():
        components["schemas"].setdefault(_PREFIX + name, schema)
    for name, scheme in renamed["components"]["securitySchemes"].items():
        components.setdefault("securitySchemes", {}).setdefault(name, scheme)
