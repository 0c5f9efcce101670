"""The management HTTP API: mint, list, rename, revoke, delete and roll keys, read the audit log.

    app = APIKeyMiddleware(Starlette(routes=[*management_routes(guard), ...]), guard=guard)
    fastapi_app.router.routes.extend(management_routes(guard))  # behind the same middleware

- `routes`: the route table, and `ManagementAPI` (the same as one ASGI app);
- `handlers`: what each route does, through the lifecycle service;
- `context`: the request as a handler sees it (`Call`) and what the routes share (`RouteContext`);
- `resource`: per-path plumbing: methods, who the caller is, every outcome in the envelope;
- `body`, `query`, `fields`: reading request bodies and query strings;
- `schemas`, `operations`, `document`: the OpenAPI 3.1 document.
"""

from .document import management_openapi
from .routes import DEFAULT_PREFIX, ManagementAPI, management_routes

__all__ = ["DEFAULT_PREFIX", "ManagementAPI", "management_openapi", "management_routes"]
