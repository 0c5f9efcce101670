"""Serving the storefront with uvicorn, in the caller's event loop (`keyguard[server]`)."""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute

from keyguard._guard import KeyGuard

from .storefront import create_app

if TYPE_CHECKING:
    import uvicorn

    from keyguard.web.admin import AdminPage

__all__ = ["make_server", "serve"]


def make_server(
    guard: KeyGuard,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    management_routes: Sequence[BaseRoute] = (),
    admin_page: AdminPage | None = None,
    log_level: str = "info",
) -> uvicorn.Server:
    """A `uvicorn.Server` for the storefront, not started; `serve` runs one to the end."""
    try:
        import uvicorn
    except ImportError as exc:
        raise ImportError("the demo server needs uvicorn: pip install 'keyguard[server]'") from exc
    app = create_app(guard, management_routes=management_routes, admin_page=admin_page)
    # lifespan "on": the guard starts with the server and flushes last-used times as it stops.
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="on")
    return uvicorn.Server(config)


async def serve(
    guard: KeyGuard,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    management_routes: Sequence[BaseRoute] = (),
    admin_page: AdminPage | None = None,
    log_level: str = "info",
) -> None:
    """Serve the storefront until the process is interrupted (Ctrl-C stops it cleanly)."""
    server = make_server(
        guard,
        host=host,
        port=port,
        management_routes=management_routes,
        admin_page=admin_page,
        log_level=log_level,
    )
    await server.serve()
