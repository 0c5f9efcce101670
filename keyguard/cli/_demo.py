"""`keyguard demo`: the storefront behind keyguard, on the embedded SQLite store by default,
with the management API mounted."""

from __future__ import annotations

import argparse

from keyguard.demo import demo_banner, ensure_demo_keys, serve
from keyguard.web import management_routes

from ._app import App

__all__ = ["demo"]


async def demo(app: App, args: argparse.Namespace) -> None:
    guard = app.guard
    keys = await ensure_demo_keys(guard)
    # The banner is the one place the demo's new values are shown: stdout, like `keys create`.
    app.out.line(demo_banner(keys, f"http://{args.host}:{args.port}"))
    try:
        routes = management_routes(guard)
        await serve(guard, host=args.host, port=args.port, management_routes=routes)
    finally:
        await guard.stop()
