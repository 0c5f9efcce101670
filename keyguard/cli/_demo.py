"""`keyguard demo`: the storefront behind keyguard, on the embedded SQLite store by default,
with the management API and (with `keyguard[admin]`) the admin page mounted."""

from __future__ import annotations

import argparse
from typing import TYPE_CHECKING

from keyguard._guard import KeyGuard
from keyguard.demo import (
    ADMIN_PATH,
    DEMO_ACCOUNT,
    demo_banner,
    demo_metrics,
    ensure_demo_keys,
    metrics_lines,
    serve,
    store_location,
)
from keyguard.web import management_routes

from ._app import App

if TYPE_CHECKING:
    from keyguard.web.admin import AdminPage

__all__ = ["demo", "token_admin_page"]


async def demo(app: App, args: argparse.Namespace) -> None:
    metrics = demo_metrics()  # None without keyguard[metrics]: the banner says how to add it
    app.observer = None if metrics is None else metrics.observer  # before the guard is made
    guard = app.guard
    keys = await ensure_demo_keys(guard)
    base = f"http://{args.host}:{args.port}"
    page = token_admin_page(guard, DEMO_ACCOUNT)
    sign_in = None if page is None else page.sign_in_link(base + ADMIN_PATH)
    # The banner is the one place the demo's new values are shown: stdout, like `keys create`.
    banner = demo_banner(keys, base, admin_sign_in=sign_in, store=store_location(guard))
    app.out.line(banner + "\n" + metrics_lines(base, metrics))
    try:
        await serve(
            guard,
            host=args.host,
            port=args.port,
            management_routes=management_routes(guard),
            admin_page=page,
            metrics=None if metrics is None else metrics.app,
        )
    finally:
        await guard.stop()


def token_admin_page(
    guard: KeyGuard, account: str, *, owner: str | None = None
) -> AdminPage | None:
    """The admin page for whoever runs this command, signed in by a one-time token; None when
    the `admin` extra is not installed."""
    try:
        from keyguard.web.admin import AdminPage, TokenSignIn
    except ImportError:
        return None
    return AdminPage(guard, sign_in=TokenSignIn.for_operator(account, owner=owner))
