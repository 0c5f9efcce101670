"""The OpenAPI 3.1 document of the management API, and the route that serves it.

The document is served as is, not in the envelope, because tools (Swagger UI, code generators,
schemathesis) read it as the document itself.
"""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request
from starlette.responses import Response

from keyguard.core import DEFAULT_ENVIRONMENTS

from .resource import Endpoint

__all__ = ["management_openapi", "openapi_endpoint"]


def management_openapi(
    *, prefix: str = "/v1/account", environments: tuple[str, ...] = DEFAULT_ENVIRONMENTS
) -> dict[str, Any]:
    """The document for routes mounted at `prefix` with these environments."""
    from .operations import management_operations  # here: pydantic loads when it is asked for
    from .schemas import component_schemas

    bearer = {
        "type": "http",
        "scheme": "bearer",
        "description": "A secret key (sk_*): Authorization: Bearer <key>.",
    }
    return {
        "openapi": "3.1.0",
        "info": {"title": "keyguard management API", "version": "1"},
        "security": [{"apiKey": []}],
        "paths": management_operations(prefix.rstrip("/"), environments),
        "components": {
            "securitySchemes": {"apiKey": bearer},
            "schemas": component_schemas(environments),
        },
    }


def openapi_endpoint(prefix: str, environments: tuple[str, ...]) -> Endpoint:
    document = management_openapi(prefix=prefix, environments=environments)
    body = json.dumps(document).encode()

    async def endpoint(request: Request, rid: str) -> Response:
        root = request.scope.get("root_path", "")
        # Mounted below a path: the document's paths are relative to it.
        content = json.dumps({**document, "servers": [{"url": root}]}).encode() if root else body
        return Response(content, 200, {"x-request-id": rid}, "application/json")

    return endpoint
