"""The page's routes, relative to where it is mounted."""

from __future__ import annotations

from collections.abc import Awaitable, Callable

from starlette.requests import Request
from starlette.responses import Response
from starlette.routing import BaseRoute, Mount, Route
from starlette.staticfiles import StaticFiles

from .actions import (
    confirm_delete,
    confirm_revoke,
    delete,
    limit,
    rename,
    reset_quota,
    restrict,
    revoke,
    roll,
)
from .key_page import key_page
from .listing import list_keys
from .new_key import create, new_key_form
from .sign_in_views import sign_in, sign_out
from .visit import Handler, view

__all__ = ["page_routes"]

Endpoint = Callable[[Request], Awaitable[Response]]


def page_routes() -> list[BaseRoute]:
    return [
        Route("/", view(list_keys), methods=["GET"]),
        _page("/new", get=new_key_form, post=create),
        Route("/keys/{id}", view(key_page), methods=["GET"]),
        Route("/keys/{id}/rename", view(rename), methods=["POST"]),
        Route("/keys/{id}/restrict", view(restrict), methods=["POST"]),
        Route("/keys/{id}/limit", view(limit), methods=["POST"]),
        Route("/keys/{id}/reset-quota", view(reset_quota), methods=["POST"]),
        _page("/keys/{id}/revoke", get=confirm_revoke, post=revoke),
        _page("/keys/{id}/delete", get=confirm_delete, post=delete),
        Route("/keys/{id}/roll", view(roll), methods=["POST"]),
        Route("/sign-in", sign_in, methods=["GET"]),
        Route("/sign-out", view(sign_out), methods=["POST"]),
        Mount("/static", StaticFiles(packages=[("keyguard.web.admin", "static")])),
    ]


def _page(path: str, *, get: Handler, post: Handler) -> Route:
    """One route for a page and its form, so a wrong method's 405 lists both in `Allow`."""
    endpoints: dict[str, Endpoint] = {"GET": view(get), "HEAD": view(get), "POST": view(post)}

    async def endpoint(request: Request) -> Response:
        return await endpoints[request.method](request)

    return Route(path, endpoint, methods=["GET", "POST"], name=post.__name__)
