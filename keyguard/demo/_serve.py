"""Serving the storefront with uvicorn, in the caller's event loop (`keyguard[server]`)."""

from __future__ import annotations

import logging
from collections.abc import Sequence
from typing import TYPE_CHECKING

from starlette.routing import BaseRoute
from starlette.types import ASGIApp

from keyguard._guard import KeyGuard
from keyguard.core import KeyRedactingFilter

from .storefront import create_app

if TYPE_CHECKING:
    import uvicorn

    from keyguard.web.admin import AdminPage

__all__ = ["make_server", "redact_keys_in_server_logs", "serve"]


def make_server(
    guard: KeyGuard,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    management_routes: Sequence[BaseRoute] = (),
    admin_page: AdminPage | None = None,
    metrics: ASGIApp | None = None,
    log_level: str = "info",
) -> uvicorn.Server:
    """A `uvicorn.Server` for the storefront, not started; `serve` runs one to the end."""
    try:
        import uvicorn
    except ImportError as exc:
        raise ImportError("the demo server needs uvicorn: pip install 'keyguard[server]'") from exc
    app = create_app(
        guard, management_routes=management_routes, admin_page=admin_page, metrics=metrics
    )
    # lifespan "on": the guard starts with the server and flushes last-used times as it stops.
    config = uvicorn.Config(app, host=host, port=port, log_level=log_level, lifespan="on")
    redact_keys_in_server_logs()  # after Config: it (re)configures uvicorn's loggers
    return uvicorn.Server(config)


def redact_keys_in_server_logs() -> None:
    """uvicorn's access log prints each URL: a client that put its key in one (the query
    string, the path) must not leave it there. Every handler of uvicorn's loggers and of the
    root logger rewrites key-shaped text to `prefix…last4`."""
    key_filter = KeyRedactingFilter()
    for name in ("uvicorn", "uvicorn.access", "uvicorn.error", ""):
        logger = logging.getLogger(name or None)
        logger.addFilter(key_filter)
        for handler in logger.handlers:
            handler.addFilter(key_filter)


async def serve(
    guard: KeyGuard,
    *,
    host: str = "127.0.0.1",
    port: int = 8000,
    management_routes: Sequence[BaseRoute] = (),
    admin_page: AdminPage | None = None,
    metrics: ASGIApp | None = None,
    log_level: str = "info",
) -> None:
    """Serve the storefront until the process is interrupted (Ctrl-C stops it cleanly)."""
    server = make_server(
        guard,
        host=host,
        port=port,
        management_routes=management_routes,
        admin_page=admin_page,
        metrics=metrics,
        log_level=log_level,
    )
    await server.serve()
