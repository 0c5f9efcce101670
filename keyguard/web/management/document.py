"""The OpenAPI 3.1 document of the management API, and the route that serves it.

The document is served as is, not in the envelope, because tools (Swagger UI, code generators,
schemathesis) read it as the document itself.
"""

from __future__ import annotations

import json
from collections.abc import Iterable, Iterator
from typing import Any

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route

from keyguard.core import DEFAULT_ENVIRONMENTS

from .resource import Resource

__all__ = ["OpenAPIEndpoint", "management_openapi", "mounted_documents"]


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


class OpenAPIEndpoint:
    """Serves the document, and holds it for `mounted_documents`."""

    def __init__(self, prefix: str, environments: tuple[str, ...]) -> None:
        self.document = management_openapi(prefix=prefix, environments=environments)
        self._body = json.dumps(self.document).encode()

    async def __call__(self, request: Request, rid: str) -> Response:
        root = request.scope.get("root_path", "")
        # Mounted below a path: the document's paths are relative to it.
        content = (
            json.dumps({**self.document, "servers": [{"url": root}]}).encode()
            if root
            else self._body
        )
        return Response(content, 200, {"x-request-id": rid}, "application/json")


def mounted_documents(routes: Iterable[BaseRoute], root: str = "") -> Iterator[dict[str, Any]]:
    """The documents of the management routes among `routes`, mounts included, with their
    paths as the app serves them: how another app's document (FastAPI's) can list them."""
    for route in routes:
        if isinstance(route, Mount):
            yield from mounted_documents(route.routes, root + route.path)
        elif isinstance(route, Route) and isinstance(route.endpoint, Resource):
            served = route.endpoint.endpoints.get("GET")
            if isinstance(served, OpenAPIEndpoint):
                document = served.document
                paths = {root + path: item for path, item in document["paths"].items()}
                yield {**document, "paths": paths}
