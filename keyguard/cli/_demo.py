"""`keyguard demo`: the storefront behind keyguard, on the embedded SQLite store by default."""

from __future__ import annotations

import argparse
import importlib

from starlette.routing import BaseRoute

from keyguard.demo import demo_banner, ensure_demo_keys, serve

from ._app import App

__all__ = ["demo"]


async def demo(app: App, args: argparse.Namespace) -> None:
    guard = app.guard
    keys = await ensure_demo_keys(guard)
    # The banner is the one place the demo's new values are shown: stdout, like `keys create`.
    app.out.line(demo_banner(keys, f"http://{args.host}:{args.port}"))
    try:
        await serve(guard, host=args.host, port=args.port, management_routes=_management(app))
    finally:
        await guard.stop()


def _management(app: App) -> list[BaseRoute]:
    """The management API's routes, when this build of keyguard has them."""
    try:
        web = importlib.import_module("keyguard.web")
    except ImportError:  # pragma: no cover - keyguard.web is always there
        return []
    routes = getattr(web, "management_routes", None)
    return [] if routes is None else list(routes(app.guard))
