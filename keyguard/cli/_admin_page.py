"""`keyguard admin`: the admin page alone, on 127.0.0.1, for the operator at this terminal; they
sign in with the one-time link it prints, as with Jupyter."""

from __future__ import annotations

import argparse

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import RedirectResponse, Response
from starlette.routing import Route

from keyguard.core import validate_name
from keyguard.demo import ADMIN_PATH, redact_keys_in_server_logs

from ._app import App, CliError
from ._demo import token_admin_page

__all__ = ["serve_admin_page"]

HOST = "127.0.0.1"  # an operator's tool: never on another interface


async def serve_admin_page(app: App, args: argparse.Namespace) -> None:
    try:
        import uvicorn
    except ImportError:
        raise CliError(
            "the admin page needs uvicorn: pip install 'keyguard[server,admin]'"
        ) from None
    guard = app.guard
    account = validate_name(args.account, "account")
    owner = None if args.owner is None else validate_name(args.owner, "owner")
    page = token_admin_page(guard, account, owner=owner)
    if page is None:
        raise CliError("the admin page needs its extra: pip install 'keyguard[admin]'")
    base = f"http://{HOST}:{args.port}"
    app.out.line(f"keyguard admin: API keys of account {account!r} at {base}{ADMIN_PATH}")
    app.out.line("Open this link to sign in (it works once):")
    app.out.line(f"  {page.sign_in_link(base + ADMIN_PATH)}")

    async def home(request: Request) -> Response:
        return RedirectResponse(ADMIN_PATH, status_code=303)

    web = Starlette(routes=[Route("/", home), page.mount(ADMIN_PATH)], lifespan=guard.lifespan)
    config = uvicorn.Config(web, host=HOST, port=args.port, log_level="info", lifespan="on")
    redact_keys_in_server_logs()
    try:
        await uvicorn.Server(config).serve()
    finally:
        await guard.stop()
